#include "storage/pg/statements.h"

#include "storage/pg/access_store.h"
#include "storage/pg/audit_store.h"
#include "storage/pg/policy_store.h"
#include "storage/pg/server_store.h"
#include "storage/pg/tool_definition_store.h"

namespace mcpreg::storage::pg {

void PrepareAll(pqxx::connection& c) {
  PrepareAuditStatements(c);
  PrepareServerStatements(c);
  PrepareAccessStatements(c);
  PreparePolicyStatements(c);
  PrepareToolDefinitionStatements(c);
}

}  // namespace mcpreg::storage::pg
