#include "statements.h"

#include "access_store.h"
#include "audit_store.h"
#include "policy_store.h"
#include "server_store.h"

namespace mcpreg::storage::pg {

void PrepareAll(pqxx::connection& c) {
  PrepareAuditStatements(c);
  PrepareServerStatements(c);
  PrepareAccessStatements(c);
  PreparePolicyStatements(c);
}

}  // namespace mcpreg::storage::pg
