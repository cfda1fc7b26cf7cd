#include "audit_batcher.h"

#include <vector>

#include "transaction.h"

namespace mcpreg::storage::pg {

AuditBatcher::AuditBatcher(ConnectionPool& pool, size_t max_batch_rows)
    : pool_(pool),
      max_batch_rows_(max_batch_rows),
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
  auto pending = std::make_shared<Pending>();
  pending->event = event;
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    return absl::UnavailableError("the audit writer is shutting down");
  }
  queue_.push_back(pending);
  const bool done = mu_.AwaitWithDeadline(
      absl::Condition(
          +[](Pending* p) { return p->done; }, pending.get()),
      deadline);
  if (!done) {
    return absl::DeadlineExceededError(
        "the audit row was not confirmed before the deadline");
  }
  return pending->status;
}

int64_t AuditBatcher::batches_committed() const {
  absl::MutexLock lock(&mu_);
  return batches_;
}

void AuditBatcher::WriterLoop() {
  for (;;) {
    std::vector<std::shared_ptr<Pending>> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](AuditBatcher* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to write
      while (!queue_.empty() && batch.size() < max_batch_rows_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    // While this commits, new rows queue up for the next batch.
    TransactionOptions options;
    options.deadline = absl::Now() + absl::Seconds(10);
    options.what = "writing the audit log";
    const auto write = [&](size_t from, size_t to) {
      return RunTransaction(pool_, options, [&](pqxx::work& txn) {
        for (size_t i = from; i < to; ++i) AppendAudit(txn, batch[i]->event);
        return absl::OkStatus();
      });
    };
    std::vector<absl::Status> statuses(batch.size(), write(0, batch.size()));
    // A batch the database refused for its content (not for being down)
    // must not fail its neighbours: write its rows one by one.
    const absl::StatusCode code = statuses[0].code();
    if (batch.size() > 1 && code != absl::StatusCode::kOk &&
        code != absl::StatusCode::kUnavailable &&
        code != absl::StatusCode::kDeadlineExceeded) {
      for (size_t i = 0; i < batch.size(); ++i) statuses[i] = write(i, i + 1);
    }
    absl::MutexLock lock(&mu_);
    if (statuses[0].ok()) ++batches_;
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->status = statuses[i];
      batch[i]->done = true;
    }
  }
}

}  // namespace mcpreg::storage::pg
