// Appends to the audit log. A row written with an action's own transaction
// commits or rolls back with it; denials, which change nothing else, are
// written on their own.
#ifndef MCPREG_STORAGE_PG_AUDIT_STORE_H_
#define MCPREG_STORAGE_PG_AUDIT_STORE_H_

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "mcpreg/v1/registry.pb.h"
#include "storage/audit_log.h"
#include "storage/pg/connection_pool.h"

namespace mcpreg::storage::pg {

void PrepareAuditStatements(pqxx::connection& c);

// Inside the caller's transaction, as its last statement: sent with its
// COMMIT (transaction.h's ExecAtCommit), so the audit chain's lock, which
// the row takes, is held for the least time. Its errors are the commit's.
void AppendAudit(pqxx::transaction_base& txn, const AuditEvent& event);

// Many rows in one INSERT statement (one round trip), in the given order,
// inside the caller's transaction. The group commit of audit_batcher.h.
// Rows whose decision's policy has been replaced (AuditEvent::
// policy_revision) are not written: returns their positions in `events`.
std::vector<size_t> AppendAuditRows(
    pqxx::transaction_base& txn, const std::vector<const AuditEvent*>& events);

// In a transaction of its own, even if the call has been cancelled.
absl::Status AppendAudit(ConnectionPool& pool, const AuditEvent& event,
                         absl::Time deadline);

absl::StatusOr<AuditPage> ListAudit(ConnectionPool& pool,
                                    const AuditQuery& query,
                                    absl::Time deadline);

// Recomputes every row's hash in id order, in batches, in one snapshot, and
// checks each row's link to the previous row of its chain and each chain's
// head against that chain's last row.
absl::StatusOr<ChainVerdict> VerifyAuditChain(ConnectionPool& pool,
                                              absl::Time deadline);

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_AUDIT_STORE_H_
