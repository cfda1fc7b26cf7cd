// Appends to the audit log. A row written with an action's own transaction
// commits or rolls back with it; denials, which change nothing else, are
// written on their own.
#ifndef MCPREG_STORAGE_PG_AUDIT_STORE_H_
#define MCPREG_STORAGE_PG_AUDIT_STORE_H_

#include <pqxx/pqxx>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "connection_pool.h"

namespace mcpreg::storage::pg {

struct AuditEvent {
  std::string actor;   // principal, or "anonymous"
  std::string action;  // "register", "unregister", "token.create", ...
  std::string project_key;
  std::string server;  // display name when known
  std::string tool;
  std::string decision;  // "ALLOW", "DENY" or "ERROR"
  std::string reason;
  std::string request_id;
  std::string details_json = "{}";
};

void PrepareAuditStatements(pqxx::connection& c);

// Inside the caller's transaction.
void AppendAudit(pqxx::transaction_base& txn, const AuditEvent& event);

// In a transaction of its own.
absl::Status AppendAudit(ConnectionPool& pool, const AuditEvent& event,
                         absl::Time deadline);

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_AUDIT_STORE_H_
