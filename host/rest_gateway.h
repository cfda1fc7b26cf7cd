// The REST gateway: HTTP/JSON in front of the plugin, routed and transcoded
// from the `google.api.http` options in the plugin's own descriptors (the
// host hand-maps nothing). Request headers travel as call metadata, as on
// gRPC; errors are JSON {code, message, details} with the HTTP status the
// design's error table gives each gRPC code.
#ifndef MCPREG_HOST_REST_GATEWAY_H_
#define MCPREG_HOST_REST_GATEWAY_H_

#include <memory>
#include <string>
#include <thread>

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

// HTTP status for a gRPC status code.
int HttpStatusForGrpcCode(int code);
// "NOT_FOUND" for 5; "UNKNOWN" for a code out of range.
const char* GrpcCodeName(int code);

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

  std::unique_ptr<RouteTable> routes_;
  std::unique_ptr<JsonTranscoder> transcoder_;
  std::unique_ptr<RestConnections> connections_;  // destroyed after server_
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string address_;
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_REST_GATEWAY_H_
