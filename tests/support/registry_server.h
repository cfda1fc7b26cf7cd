// The registry as a running service for end-to-end tests: a private
// PostgreSQL, and mcpreg-host with the real libmcpreg.so bootstrapped (admin
// token in a file) and seeded with the quickstart data, on a free loopback
// port. Stops everything in its destructor.
#ifndef MCPREG_TESTS_SUPPORT_REGISTRY_SERVER_H_
#define MCPREG_TESTS_SUPPORT_REGISTRY_SERVER_H_

#include <memory>
#include <string>

#include "tests/support/host_process.h"
#include "tests/support/pg_cluster.h"

namespace mcpreg::testing {

class RegistryServer {
 public:
  // Starts everything (with the REST gateway on a free port when `rest`); on
  // failure ok() is false and error() says why.
  // `max_connections` sizes the plugin's pool (0 = its default); `durable`
  // runs PostgreSQL with fsync on (see PgCluster). `host_config` adds keys
  // to the host's configuration file: JSON members without the braces,
  // e.g. R"("restLimits": {"headerTimeoutMs": 1000})"; `plugin_config`
  // adds keys to its pluginConfig the same way.
  explicit RegistryServer(bool rest = false, int max_connections = 0,
                          bool durable = false,
                          const std::string& host_config = "",
                          const std::string& plugin_config = "");
  ~RegistryServer();  // SIGTERM to the host (expects a clean exit), then PG

  bool ok() const { return !admin_token_.empty(); }
  const std::string& error() const { return error_; }

  const std::string& address() const { return address_; }  // "127.0.0.1:N"
  const std::string& rest_address() const { return rest_address_; }
  const std::string& admin_token() const { return admin_token_; }
  const std::string& admin_token_file() const { return token_file_; }
  const std::string& conninfo() const { return conninfo_; }
  const std::string& home() const { return home_; }  // storage is home/storage
  HostProcess& host() { return *host_; }
  PgCluster& cluster() { return *cluster_; }

  // Exit code the host ended with (valid after the destructor began); tests
  // check it through Stop().
  int Stop();

 private:
  std::unique_ptr<PgCluster> cluster_;
  std::unique_ptr<HostProcess> host_;
  std::string home_;
  std::string conninfo_;
  std::string token_file_;
  std::string address_;
  std::string rest_address_;
  std::string admin_token_;
  std::string error_;
  bool stopped_ = false;
};

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_REGISTRY_SERVER_H_
