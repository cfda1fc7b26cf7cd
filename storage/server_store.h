// Registered servers and their versions: what handlers ask of storage. The
// PostgreSQL implementation is storage/pg/server_store.h; handler tests use
// an in-memory one (tests/support/fake_stores.h).
#ifndef MCPREG_STORAGE_SERVER_STORE_H_
#define MCPREG_STORAGE_SERVER_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mcpreg/v1/registry.pb.h"
#include "storage/audit_log.h"

namespace mcpreg::storage {

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
  // As committed, with the one version the call registered (or found):
  // never the whole history, whose size is the server's, not the call's.
  v1::Server server;
};

struct UnregisterResult {
  int64_t server_id = 0;  // the removed row's
  std::string name;
  std::string display_name;
  uint32_t versions_removed = 0;
};

// One page of a server's versions.
struct ServerVersions {
  // The first page starts with the latest version; the rest follow in
  // registration order, newest first.
  v1::Server server;
  // Where the next page starts (registration order, exclusive); 0 at the end.
  int64_t next_before = 0;
};

struct ServerPage {
  std::vector<v1::Server> servers;  // each with its latest version only
  std::string last_name;            // cursor for the next page; "" at the end
};

class ServerStore {
 public:
  virtual ~ServerStore() = default;

  // Adds the version (and the server, if new) and `audit` in one
  // transaction, and returns the server as that transaction left it (no
  // second read). The version becomes the latest when it outranks the
  // current one (package_version.h). ALREADY_EXISTS when the name belongs to
  // another repository, or the version exists with a different artifact or
  // metadata. Cost does not grow with the server's history.
  virtual absl::StatusOr<Registered> Register(const NewServerVersion& v,
                                              const AuditEvent& audit,
                                              absl::Time deadline) = 0;

  // Removes the server named `name_or_display` in `project_key` with every
  // version and policy, and writes `audit` (server filled in), atomically.
  // NOT_FOUND when there is no such server — also for every caller but one
  // of concurrent unregisters: the removal and its lookup are one statement.
  virtual absl::StatusOr<UnregisterResult> Unregister(
      const std::string& project_key, const std::string& name_or_display,
      AuditEvent audit, absl::Time deadline) = 0;

  // The server with up to `page_size` versions: `before` = 0 asks for the
  // first page (the latest version, then the most recently registered
  // others); otherwise the versions registered before position `before`
  // (a previous page's next_before). NOT_FOUND when absent.
  virtual absl::StatusOr<ServerVersions> Get(const std::string& project_key,
                                             const std::string& name_or_display,
                                             uint32_t page_size, int64_t before,
                                             absl::Time deadline) = 0;

  // The server with exactly one version: `version`, or the latest when "".
  // NOT_FOUND naming the server or the version when either is absent.
  virtual absl::StatusOr<v1::Server> GetVersion(
      const std::string& project_key, const std::string& name_or_display,
      const std::string& version, absl::Time deadline) = 0;

  // Repositories that hold servers of the project (for permission filtering).
  virtual absl::StatusOr<std::vector<std::string>> RepositoriesOf(
      const std::string& project_key, absl::Time deadline) = 0;

  // Servers of the project from `repo_keys`, by name, after `after_name`,
  // whose name, display name or description contains `search` ("" = all;
  // case-insensitive).
  virtual absl::StatusOr<ServerPage> List(
      const std::string& project_key, const std::vector<std::string>& repo_keys,
      const std::string& after_name, uint32_t page_size,
      const std::string& search, absl::Time deadline) = 0;
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_SERVER_STORE_H_
