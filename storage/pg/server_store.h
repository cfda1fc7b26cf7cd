// Registered servers and their versions in PostgreSQL. Uniqueness is the
// database's job (constraints + ON CONFLICT), so concurrent registrations of
// one name from any number of replicas yield exactly one record.
#ifndef MCPREG_STORAGE_PG_SERVER_STORE_H_
#define MCPREG_STORAGE_PG_SERVER_STORE_H_

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit_store.h"
#include "connection_pool.h"
#include "mcpreg/v1/registry.pb.h"

namespace mcpreg::storage::pg {

// One version to register, everything already validated and checked.
struct NewServerVersion {
  std::string project_key;
  std::string name;
  std::string display_name;
  std::string repo_key;
  std::string package_type;
  std::string version;
  std::string repo_path;
  std::string readme_path;
  std::string artifact_sha256;
  uint64_t artifact_size = 0;
  std::string description;
  std::vector<v1::EnvironmentVariable> environment_variables;
  std::vector<v1::RuntimeArgument> runtime_arguments;
  std::string actor;
};

// What a registration left in the database.
struct Registered {
  bool created = false;  // false: an identical version was already there
  v1::Server server;     // as committed, with all versions, newest first
};

struct UnregisterResult {
  std::string name;
  std::string display_name;
  uint32_t versions_removed = 0;
};

struct ServerPage {
  std::vector<v1::Server> servers;  // each with its latest version only
  std::string last_name;            // cursor for the next page; "" at the end
};

void PrepareServerStatements(pqxx::connection& c);

class ServerStore {
 public:
  explicit ServerStore(ConnectionPool& pool) : pool_(pool) {}

  // Adds the version (and the server, if new) and `audit` in one
  // transaction, and returns the server as that transaction left it (no
  // second read). ALREADY_EXISTS when the name belongs to another
  // repository, or the version exists with a different artifact or metadata.
  absl::StatusOr<Registered> Register(const NewServerVersion& v,
                                      const AuditEvent& audit,
                                      absl::Time deadline);

  // Removes the server named `name_or_display` in `project_key` with every
  // version and policy, and writes `audit` (server filled in), atomically.
  // NOT_FOUND when there is no such server.
  absl::StatusOr<UnregisterResult> Unregister(
      const std::string& project_key, const std::string& name_or_display,
      AuditEvent audit, absl::Time deadline);

  // The server with all versions, newest first. NOT_FOUND when absent.
  absl::StatusOr<v1::Server> Get(const std::string& project_key,
                                 const std::string& name_or_display,
                                 absl::Time deadline);

  // Repositories that hold servers of the project (for permission filtering).
  absl::StatusOr<std::vector<std::string>> RepositoriesOf(
      const std::string& project_key, absl::Time deadline);

  // Servers of the project from `repo_keys`, by name, after `after_name`,
  // whose name, display name or description contains `search` ("" = all;
  // case-insensitive).
  absl::StatusOr<ServerPage> List(const std::string& project_key,
                                  const std::vector<std::string>& repo_keys,
                                  const std::string& after_name,
                                  uint32_t page_size, const std::string& search,
                                  absl::Time deadline);

 private:
  ConnectionPool& pool_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_SERVER_STORE_H_
