// What the registry's handlers work through: the stores behind interfaces,
// the authorizer, repository storage, caches and settings. In service the
// stores are PostgreSQL's (registry_runtime.h builds them); handler tests
// fill the same struct with in-memory fakes (tests/support/fake_stores.h).
#ifndef MCPREG_PLUGIN_SRC_REGISTRY_DEPENDENCIES_H_
#define MCPREG_PLUGIN_SRC_REGISTRY_DEPENDENCIES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "authz/access_cache.h"
#include "authz/authorizer.h"
#include "mcpreg/plugin_abi.h"
#include "plugin/sdk/host_log.h"
#include "plugin/src/governance/policy_cache.h"
#include "plugin/src/handlers/anonymous_limiter.h"
#include "storage/access_store.h"
#include "storage/audit_log.h"
#include "storage/policy_store.h"
#include "storage/repo/manifest_cache.h"
#include "storage/repo/repository_store.h"
#include "storage/server_store.h"
#include "storage/tool_definition_store.h"

namespace mcpreg {

// The longest any call may work: its deadline when the host gives none or a
// later one, and the bound on every database statement.
inline constexpr absl::Duration kLongestCall = absl::Seconds(30);

struct RegistryDependencies {
  explicit RegistryDependencies(const mcpreg_host_api* host) : log(host) {}

  sdk::HostLog log;
  std::unique_ptr<storage::ServerStore> servers;
  std::unique_ptr<storage::AccessStore> access;
  std::unique_ptr<storage::PolicyStore> policies;
  // After the policy store it loads from, and before the audit log: the
  // log's last group commit, as it is destroyed, may reload a policy
  // (check_handlers.cc's Redecide).
  std::unique_ptr<PolicyCache> policy_cache;
  // Pinned tool definitions. Null in handler tests without a database:
  // reporting definitions and approving them is then UNIMPLEMENTED.
  std::unique_ptr<storage::ToolDefinitionStore> definitions;
  std::unique_ptr<storage::AuditLog> audit;
  // Null with the host's access service. Before the authorizer that reads
  // it (members die in reverse order).
  std::unique_ptr<authz::AccessCache> access_cache;
  std::unique_ptr<authz::Authorizer> authorizer;
  std::unique_ptr<storage::RepositoryStore> repositories;
  storage::ManifestCache manifests;
  // Calls without valid credentials, limited and audited per peer; after
  // the audit log it writes to. Null: every refusal is its own row.
  std::unique_ptr<AnonymousLimiter> anonymous;
  uint64_t max_artifact_bytes = 64ull << 20;
  // Client configurations: "" offers no direct (npx/uvx) launcher.
  std::string package_base_url;
  std::string registry_address = "127.0.0.1:7443";
  // How guards reach it: TLS (with the system's roots, or this CA file as
  // developers' machines name it) or, when both are unset, plain text.
  bool registry_tls = false;
  std::string registry_ca_file;
  std::string guard_command = "mcpreg";
};

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_REGISTRY_DEPENDENCIES_H_
