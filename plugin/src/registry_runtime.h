// The registry as it runs on PostgreSQL: the handlers' dependencies and the
// plumbing under them that handlers never touch (the pool, the statement
// canceller, the NOTIFY listeners, the health probe), built once per
// instance from its config and torn down in a safe order.
#ifndef MCPREG_PLUGIN_SRC_REGISTRY_RUNTIME_H_
#define MCPREG_PLUGIN_SRC_REGISTRY_RUNTIME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "mcpreg/config/v1/plugin_config.pb.h"
#include "mcpreg/plugin_abi.h"
#include "plugin/src/registry_dependencies.h"
#include "storage/pg/call_interrupt.h"
#include "storage/pg/connection_pool.h"
#include "storage/pg/health_probe.h"
#include "storage/pg/notification_listener.h"

namespace mcpreg {

// Members die in reverse order of declaration: the listeners stop before
// the caches they feed, the stores (and the audit log's last batch) finish
// before the pool goes, and the canceller stops before the pool.
struct RegistryRuntime {
  explicit RegistryRuntime(const mcpreg_host_api* host) : deps(host) {}

  std::unique_ptr<storage::pg::ConnectionPool> pool;
  // Sends the cancel requests of calls whose clients went away.
  std::unique_ptr<storage::pg::StatementCanceller> canceller;
  // Whether the database answers, on a connection of its own; what
  // grpc.health.v1 reports.
  std::unique_ptr<storage::pg::HealthProbe> health;
  RegistryDependencies deps;
  std::unique_ptr<storage::pg::NotificationListener> policy_listener;
  std::unique_ptr<storage::pg::NotificationListener> access_listener;
  // Whether to serve mcpreg.v1.PackageRepositories (npm and PyPI): with the
  // built-in grants and folder storage only. A host that brings its own
  // storage or access service is a platform with its own repositories.
  bool package_endpoints = false;
};

// Connects, migrates, picks the authz and storage backends (the host's when
// its table has the slots, the built-in ones otherwise), then bootstraps and
// seeds as the config asks. Fails with the reason when any step does.
absl::StatusOr<std::unique_ptr<RegistryRuntime>> OpenRegistryRuntime(
    const mcpreg_host_api* host, const config::v1::PluginConfig& config);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_REGISTRY_RUNTIME_H_
