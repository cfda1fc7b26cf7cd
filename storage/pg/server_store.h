// Registered servers and their versions in PostgreSQL. Uniqueness is the
// database's job (constraints + ON CONFLICT), so concurrent registrations of
// one name from any number of replicas yield exactly one record.
#ifndef MCPREG_STORAGE_PG_SERVER_STORE_H_
#define MCPREG_STORAGE_PG_SERVER_STORE_H_

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "storage/pg/connection_pool.h"
#include "storage/server_store.h"

namespace mcpreg::storage::pg {

void PrepareServerStatements(pqxx::connection& c);

// storage/server_store.h, on PostgreSQL. Registering and reading cost the
// same whatever the server's history (docs/versions.md).
class PgServerStore : public ServerStore {
 public:
  explicit PgServerStore(ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<Registered> Register(const NewServerVersion& v,
                                      const AuditEvent& audit,
                                      absl::Time deadline) override;

  absl::StatusOr<UnregisterResult> Unregister(
      const std::string& project_key, const std::string& name_or_display,
      AuditEvent audit, absl::Time deadline) override;

  absl::StatusOr<ServerVersions> Get(const std::string& project_key,
                                     const std::string& name_or_display,
                                     uint32_t page_size, int64_t before,
                                     absl::Time deadline) override;

  absl::StatusOr<v1::Server> GetVersion(const std::string& project_key,
                                        const std::string& name_or_display,
                                        const std::string& version,
                                        absl::Time deadline) override;

  absl::StatusOr<std::vector<std::string>> RepositoriesOf(
      const std::string& project_key, absl::Time deadline) override;

  absl::StatusOr<ServerPage> List(const std::string& project_key,
                                  const std::vector<std::string>& repo_keys,
                                  const std::string& after_name,
                                  uint32_t page_size, const std::string& search,
                                  absl::Time deadline) override;

 private:
  ConnectionPool& pool_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_SERVER_STORE_H_
