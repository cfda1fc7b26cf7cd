// storage/audit_log.h on PostgreSQL: rows of their own in their own
// transaction, the hot path's rows group-committed by an AuditBatcher, and
// the reads of audit_store.h.
#ifndef MCPREG_STORAGE_PG_PG_AUDIT_LOG_H_
#define MCPREG_STORAGE_PG_PG_AUDIT_LOG_H_

#include <algorithm>

#include "absl/time/clock.h"
#include "storage/audit_log.h"
#include "storage/pg/audit_batcher.h"
#include "storage/pg/connection_pool.h"

namespace mcpreg::storage::pg {

class PgAuditLog : public AuditLog {
 public:
  static constexpr absl::Duration kOwnRowBudget = absl::Seconds(2);

  // `pool` must outlive this log; destroying it flushes what is queued.
  explicit PgAuditLog(ConnectionPool& pool) : pool_(pool), batcher_(pool) {}

  // A row of its own records a refusal: it gets a budget of its own, at
  // least kOwnRowBudget, so that a caller whose deadline has passed (or is
  // about to) is still on the record.
  absl::Status Append(const AuditEvent& event, absl::Time deadline) override {
    return AppendAudit(pool_, event,
                       std::max(deadline, absl::Now() + kOwnRowBudget));
  }
  void AppendAsync(const AuditEvent& event, Done done) override {
    batcher_.AppendAsync(event, std::move(done));
  }
  absl::StatusOr<AuditPage> List(const AuditQuery& query,
                                 absl::Time deadline) override {
    return ListAudit(pool_, query, deadline);
  }
  absl::StatusOr<ChainVerdict> Verify(absl::Time deadline) override {
    return VerifyAuditChain(pool_, deadline);
  }

 private:
  ConnectionPool& pool_;
  AuditBatcher batcher_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_PG_AUDIT_LOG_H_
