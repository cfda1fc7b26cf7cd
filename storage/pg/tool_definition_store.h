// storage/tool_definition_store.h on PostgreSQL (migration 0008).
#ifndef MCPREG_STORAGE_PG_TOOL_DEFINITION_STORE_H_
#define MCPREG_STORAGE_PG_TOOL_DEFINITION_STORE_H_

#include <pqxx/pqxx>

#include "storage/pg/connection_pool.h"
#include "storage/tool_definition_store.h"

namespace mcpreg::storage::pg {

void PrepareToolDefinitionStatements(pqxx::connection& c);

class PgToolDefinitionStore : public ToolDefinitionStore {
 public:
  explicit PgToolDefinitionStore(ConnectionPool& pool) : pool_(pool) {}

  absl::Status Record(const ServerPolicy& server, const std::string& version,
                      const std::vector<ReportedDefinition>& reported,
                      const AuditEvent& audit, absl::Time deadline) override;
  absl::StatusOr<std::vector<v1::ToolDefinitionRecord>> List(
      const ServerPolicy& server, absl::Time deadline) override;
  absl::StatusOr<std::vector<v1::ToolDefinitionRecord>> SetApproval(
      const ServerPolicy& server, const std::vector<DefinitionRef>& refs,
      const std::string& version, bool approve, const std::string& actor,
      const AuditEvent& audit, absl::Time deadline) override;

 private:
  ConnectionPool& pool_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_TOOL_DEFINITION_STORE_H_
