// The REST gateway: HTTP/JSON in front of the plugin, routed and transcoded
// from the `google.api.http` options in the plugin's own descriptors (the
// host hand-maps nothing). Request headers travel as call metadata, as on
// gRPC; errors are answered as rest_errors.h says.
#ifndef MCPREG_HOST_REST_GATEWAY_H_
#define MCPREG_HOST_REST_GATEWAY_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "host/hosted_instance.h"
#include "mcpreg/config/v1/host_config.pb.h"

namespace httplib {
class Server;
}

namespace mcpreg::host {

class RouteTable;
class JsonTranscoder;
class RestConnections;

class RestGateway {
 public:
  // Binds config.rest_listen (TLS with config.tls when set) and starts
  // serving; `plugin` must outlive the gateway.
  static absl::StatusOr<std::unique_ptr<RestGateway>> Start(
      const config::v1::HostConfig& config, const HostedInstance* plugin);
  ~RestGateway();  // Stop()s

  // Stops accepting, closes idle connections, lets running requests finish
  // (within their time limits), joins the threads.
  void Stop();
  const std::string& address() const { return address_; }
  size_t route_count() const;

 private:
  RestGateway() = default;
  // The HTTP (or HTTPS) server with the connection limits; sets
  // `raise_backlog` to what widens its listen queue once bound.
  absl::Status CreateServer(const config::v1::HostConfig& config,
                            std::function<bool()>* raise_backlog);
  // The health probes, then every plugin route, forwarded.
  absl::Status AddRoutes(const config::v1::HostConfig& config,
                         const HostedInstance* plugin);
  // Binds `rest_listen` and serves on thread_.
  absl::Status Listen(const std::string& rest_listen,
                      const std::function<bool()>& raise_backlog);

  std::unique_ptr<RouteTable> routes_;
  std::unique_ptr<JsonTranscoder> transcoder_;
  std::unique_ptr<RestConnections> connections_;  // destroyed after server_
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string address_;
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_REST_GATEWAY_H_
