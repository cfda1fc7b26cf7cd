// Everything the registry handlers use, built once per instance from its
// config: the connection pool and stores, the authorizer, repository storage.
#ifndef MCPREG_PLUGIN_SRC_REGISTRY_SERVICES_H_
#define MCPREG_PLUGIN_SRC_REGISTRY_SERVICES_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "authz/access_cache.h"
#include "authz/authorizer.h"
#include "mcpreg/config/v1/plugin_config.pb.h"
#include "mcpreg/plugin_abi.h"
#include "plugin/sdk/host_log.h"
#include "plugin/src/governance/policy_cache.h"
#include "storage/pg/access_store.h"
#include "storage/pg/audit_batcher.h"
#include "storage/pg/call_interrupt.h"
#include "storage/pg/connection_pool.h"
#include "storage/pg/health_probe.h"
#include "storage/pg/notification_listener.h"
#include "storage/pg/policy_store.h"
#include "storage/pg/server_store.h"
#include "storage/repo/manifest_cache.h"
#include "storage/repo/repository_store.h"

namespace mcpreg {

// The longest any call may work: its deadline when the host gives none or a
// later one, and the bound on every database statement.
inline constexpr absl::Duration kLongestCall = absl::Seconds(30);

struct RegistryServices {
  explicit RegistryServices(const mcpreg_host_api* host) : log(host) {}

  sdk::HostLog log;
  std::unique_ptr<storage::pg::ConnectionPool> pool;
  // Sends the cancel requests of calls whose clients went away; after the
  // pool, so that it stops first.
  std::unique_ptr<storage::pg::StatementCanceller> canceller;
  std::unique_ptr<storage::pg::ServerStore> servers;
  std::unique_ptr<storage::pg::AccessStore> access;
  // Before the authorizer that reads it (members die in reverse order).
  std::unique_ptr<authz::AccessCache> access_cache;
  std::unique_ptr<authz::Authorizer> authorizer;
  std::unique_ptr<storage::RepositoryStore> repositories;
  storage::ManifestCache manifests;
  uint64_t max_artifact_bytes = 64ull << 20;
  std::string package_base_url;

  // Governance. Declared after the pool they use and in dependency order:
  // members are destroyed in reverse, so the listener stops before the cache
  // it feeds, and the batcher flushes before the pool goes.
  std::unique_ptr<storage::pg::PolicyStore> policies;
  std::unique_ptr<PolicyCache> policy_cache;
  std::unique_ptr<storage::pg::NotificationListener> policy_listener;
  std::unique_ptr<storage::pg::NotificationListener> access_listener;
  std::unique_ptr<storage::pg::AuditBatcher> audit_batcher;

  // Whether the database answers, on a connection of its own; what
  // grpc.health.v1 reports.
  std::unique_ptr<storage::pg::HealthProbe> health;
};

// Connects, migrates, picks the authz and storage backends (the host's when
// its table has the slots, the built-in ones otherwise), then bootstraps and
// seeds as the config asks. Fails with the reason when any step does.
absl::StatusOr<std::unique_ptr<RegistryServices>> OpenRegistryServices(
    const mcpreg_host_api* host, const config::v1::PluginConfig& config);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_REGISTRY_SERVICES_H_
