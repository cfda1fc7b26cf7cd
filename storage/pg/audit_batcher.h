// Group commit for audit rows written on the hot path (tool-call checks):
// callers hand over a row and wait until it is durable; one writer commits
// everything queued meanwhile as one INSERT statement. Each caller still gets
// its row committed before it answers, but checks are not limited to one
// commit (one fsync) each.
//
// The writer keeps one pooled connection for itself and sends each batch as
// a single autocommitted statement: one round trip per batch instead of four
// (BEGIN, statement_timeout, INSERT, COMMIT) — on the hot path of every check.
#ifndef MCPREG_STORAGE_PG_AUDIT_BATCHER_H_
#define MCPREG_STORAGE_PG_AUDIT_BATCHER_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/pg/audit_store.h"
#include "storage/pg/connection_pool.h"

namespace mcpreg::storage::pg {

class AuditBatcher {
 public:
  // At most `max_queued_rows` wait for the writer; past that, appends are
  // refused (RESOURCE_EXHAUSTED) until it catches up — a stalled database
  // must not grow the queue without bound while callers keep coming.
  explicit AuditBatcher(ConnectionPool& pool, size_t max_batch_rows = 512,
                        size_t max_queued_rows = 4096);
  // Commits what is queued, then stops the writer.
  ~AuditBatcher();

  AuditBatcher(const AuditBatcher&) = delete;
  AuditBatcher& operator=(const AuditBatcher&) = delete;

  // Told the outcome of one row: OK once it is committed, or why not.
  using Done = std::function<void(const absl::Status&)>;

  // Blocks until `event` is committed (OK), its batch failed (that error), or
  // `deadline` passes (DEADLINE_EXCEEDED: the row may still commit later, so
  // the caller must treat the action as not confirmed).
  absl::Status Append(const AuditEvent& event, absl::Time deadline);

  // Queues `event` and returns at once; `done` runs exactly once, on the
  // writer's thread after the row's batch (or at once, on the caller's
  // thread, when the batcher is stopping or its queue is full). A caller that
  // answers from `done` holds no thread while the row commits. `done` must not
  // block: the next batch waits for it. The statement timeout bounds how long
  // it can take.
  void AppendAsync(const AuditEvent& event, Done done);

  // Batches committed so far (for tests and benchmarks).
  int64_t batches_committed() const;

 private:
  // One caller's row and whom to tell. A blocking caller is woken through
  // its own notification. (Waiting on mu_ with a condition instead made the
  // writer's unlock hand the mutex from one woken caller to the next — a
  // chain of wake-ups, each waiting for a CPU, that cost milliseconds per
  // batch on a busy machine.)
  struct Pending {
    AuditEvent event;
    Done done;
  };

  void WriterLoop();
  // Runs the row's callback; an exception from it is dropped.
  static void Tell(Pending& pending, const absl::Status& status);
  // Commits rows [from, to) of `batch` in one statement on the writer's
  // connection, connecting first if it has none. Sets each row's outcome
  // in `statuses` (OK, StalePolicyError for a row whose policy was
  // replaced, or the statement's error) and returns the statement's.
  absl::Status Write(const std::vector<std::unique_ptr<Pending>>& batch,
                     size_t from, size_t to,
                     std::vector<absl::Status>& statuses);
  absl::Status WriteRows(const std::vector<std::unique_ptr<Pending>>& batch,
                         size_t from, size_t to,
                         std::vector<absl::Status>& statuses);

  ConnectionPool& pool_;
  const size_t max_batch_rows_;
  const size_t max_queued_rows_;
  mutable absl::Mutex mu_;
  std::deque<std::unique_ptr<Pending>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t batches_ ABSL_GUARDED_BY(mu_) = 0;
  // The writer thread's own connection; touched only by that thread.
  std::optional<ConnectionPool::Lease> connection_;
  absl::Time connection_used_ = absl::InfinitePast();
  std::thread writer_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_AUDIT_BATCHER_H_
