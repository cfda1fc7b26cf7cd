// Builds the gRPC server that forwards every plugin method (plain text or
// TLS), and stops it with a bounded drain.
#ifndef MCPREG_HOST_GRPC_SERVER_H_
#define MCPREG_HOST_GRPC_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "host/forwarding_service.h"
#include "host/hosted_instance.h"
#include "mcpreg/config/v1/host_config.pb.h"

namespace mcpreg::host {

class GrpcServer {
 public:
  // Listens on config.grpc_listen(); `plugin` must outlive the server.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const config::v1::HostConfig& config, const HostedInstance* plugin);

  // The address actually bound (port 0 resolved).
  const std::string& address() const { return address_; }

  // Stops accepting, lets in-flight calls finish for up to `drain`, cancels
  // the rest, and returns once every call has ended.
  void Shutdown(absl::Duration drain);

 private:
  GrpcServer() = default;

  std::unique_ptr<ForwardingService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_GRPC_SERVER_H_
