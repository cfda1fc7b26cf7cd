#include "storage/pg/audit_batcher.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "storage/pg/pg_status.h"

namespace mcpreg::storage::pg {
namespace {

// Bounds each batch's statement, and the wait for the writer's connection.
constexpr absl::Duration kWriteTimeout = absl::Seconds(10);
// A connection idle this long is probed before a batch is sent on it: a
// database restart or an idle timeout may have closed it, and a batch sent
// on a dead connection fails with an unknown outcome. Under load, never.
constexpr absl::Duration kProbeWhenIdleFor = absl::Seconds(5);
constexpr char kWhat[] = "writing the audit log";

}  // namespace

AuditBatcher::AuditBatcher(ConnectionPool& pool, size_t max_batch_rows,
                           size_t max_queued_rows)
    : pool_(pool),
      max_batch_rows_(max_batch_rows),
      max_queued_rows_(max_queued_rows),
      writer_([this] { WriterLoop(); }) {}

AuditBatcher::~AuditBatcher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

absl::Status AuditBatcher::Append(const AuditEvent& event,
                                  absl::Time deadline) {
  // Shared: the writer may report after this caller gave up at its deadline.
  struct Outcome {
    absl::Status status;
    absl::Notification written;
  };
  auto outcome = std::make_shared<Outcome>();
  AppendAsync(event, [outcome](const absl::Status& status) {
    outcome->status = status;
    outcome->written.Notify();
  });
  if (!outcome->written.WaitForNotificationWithDeadline(deadline)) {
    return absl::DeadlineExceededError(
        "the audit row was not confirmed before the deadline");
  }
  return outcome->status;  // set before written was notified
}

void AuditBatcher::AppendAsync(const AuditEvent& event, Done done) {
  auto pending = std::make_unique<Pending>(Pending{event, std::move(done)});
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      refused = absl::UnavailableError("the audit writer is shutting down");
    } else if (queue_.size() >= max_queued_rows_) {
      refused = absl::ResourceExhaustedError(
          absl::StrCat("the audit writer is behind: ", queue_.size(),
                       " rows are waiting for the database"));
    } else {
      queue_.push_back(std::move(pending));
      return;
    }
  }
  Tell(*pending, refused);
}

void AuditBatcher::Tell(Pending& pending, const absl::Status& status) {
  // A caller's callback must not take the writer down with it (nor, on the
  // caller's thread, escape AppendAsync): the rest of the batch still waits
  // for its answer. What the callback owns is released either way.
  try {
    pending.done(status);
  } catch (...) {
  }
}

int64_t AuditBatcher::batches_committed() const {
  absl::MutexLock lock(&mu_);
  return batches_;
}

void AuditBatcher::WriterLoop() {
  for (;;) {
    std::vector<std::unique_ptr<Pending>> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](AuditBatcher* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty()) {  // stopping, and nothing left to write
        // Closed, not pooled: its session statement_timeout is ours alone.
        if (connection_.has_value()) connection_->Discard();
        connection_.reset();
        return;
      }
      while (!queue_.empty() && batch.size() < max_batch_rows_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    // While this commits, new rows queue up for the next batch.
    std::vector<absl::Status> statuses(batch.size());
    const absl::Status written = Write(batch, 0, batch.size(), statuses);
    // A batch the database refused for its content (not for being down)
    // must not fail its neighbours: write its rows one by one.
    const absl::StatusCode code = written.code();
    if (batch.size() > 1 && code != absl::StatusCode::kOk &&
        code != absl::StatusCode::kUnavailable &&
        code != absl::StatusCode::kDeadlineExceeded) {
      for (size_t i = 0; i < batch.size(); ++i) {
        (void)Write(batch, i, i + 1, statuses);  // each row's in statuses
      }
    }
    if (written.ok()) {
      absl::MutexLock lock(&mu_);
      ++batches_;
    }
    for (size_t i = 0; i < batch.size(); ++i) Tell(*batch[i], statuses[i]);
  }
}

absl::Status AuditBatcher::Write(
    const std::vector<std::unique_ptr<Pending>>& batch, size_t from, size_t to,
    std::vector<absl::Status>& statuses) {
  // Written (OK) unless the statement fails or names the row stale: a row
  // retried on its own after its batch failed must not keep that error.
  for (size_t i = from; i < to; ++i) statuses[i] = absl::OkStatus();
  absl::Status status = WriteRows(batch, from, to, statuses);
  if (!status.ok()) {
    for (size_t i = from; i < to; ++i) statuses[i] = status;
  }
  return status;
}

absl::Status AuditBatcher::WriteRows(
    const std::vector<std::unique_ptr<Pending>>& batch, size_t from, size_t to,
    std::vector<absl::Status>& statuses) {
  if (connection_.has_value() &&
      absl::Now() - connection_used_ > kProbeWhenIdleFor) {
    try {
      pqxx::nontransaction probe(**connection_);
      probe.exec("SELECT 1");
    } catch (const std::exception&) {
      connection_->Discard();
      connection_.reset();  // reconnect below
    }
  }
  if (!connection_.has_value()) {
    absl::StatusOr<ConnectionPool::Lease> lease =
        pool_.Borrow(absl::Now() + kWriteTimeout);
    if (!lease.ok()) {
      return WithPrefix(lease.status(), absl::StrCat(kWhat, ": "));
    }
    try {
      pqxx::nontransaction session(**lease);
      session.exec(
          absl::StrCat("SET statement_timeout = ",
                       pool_.BoundedStatementTimeoutMs(kWriteTimeout)));
      // Its one statement takes arrays, whose contents a custom plan would
      // be re-planned for on every batch (a quarter of the database's CPU per
      // check at 8 in flight); the generic plan is as good for any batch.
      session.exec("SET plan_cache_mode = force_generic_plan");
    } catch (const std::exception& e) {
      lease->Discard();
      return StatusFromException(e, kWhat);
    }
    connection_.emplace(std::move(*lease));
    connection_used_ = absl::Now();
  }
  std::vector<const AuditEvent*> rows;
  rows.reserve(to - from);
  for (size_t i = from; i < to; ++i) rows.push_back(&batch[i]->event);
  try {
    // One statement outside a transaction block: atomic, and committed (with
    // synchronous_commit, durable) when it returns. Not retried: a failure
    // after sending leaves the outcome unknown, and the callers are told so.
    pqxx::nontransaction statement(**connection_);
    for (size_t stale : AppendAuditRows(statement, rows)) {
      statuses[from + stale] = StalePolicyError();
    }
    connection_used_ = absl::Now();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    // Broken, or the server said it is going away (a shutdown mid-write
    // reports 57P01 before closing): either way the statement's fate is
    // not known.
    if (!IsConnectionLost(e)) return StatusFromException(e, kWhat);
    connection_->Discard();
    connection_.reset();  // the next batch reconnects
    return absl::UnavailableError(absl::StrCat(
        kWhat,
        ": the connection to PostgreSQL was lost during the write, so whether "
        "the rows were committed is unknown; the calls are not answered"));
  }
}

}  // namespace mcpreg::storage::pg
