#include "audit_store.h"

#include "transaction.h"

namespace mcpreg::storage::pg {
namespace {

constexpr char kAppendAudit[] = "audit_append";

}  // namespace

void PrepareAuditStatements(pqxx::connection& c) {
  c.prepare(kAppendAudit, R"sql(
    INSERT INTO audit_log (actor, action, project_key, server, tool, decision,
                           reason, request_id, details)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb))sql");
}

void AppendAudit(pqxx::transaction_base& txn, const AuditEvent& e) {
  txn.exec_prepared(
      kAppendAudit, e.actor, e.action, e.project_key, e.server, e.tool,
      e.decision, e.reason, e.request_id,
      e.details_json.empty() ? std::string("{}") : e.details_json);
}

absl::Status AppendAudit(ConnectionPool& pool, const AuditEvent& event,
                         absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = "writing the audit log";
  return RunTransaction(pool, options, [&](pqxx::work& txn) {
    AppendAudit(txn, event);
    return absl::OkStatus();
  });
}

}  // namespace mcpreg::storage::pg
