// Calls any method with raw bytes over a real gRPC channel, so tests can talk
// to fixture plugins that have no compiled protos.
#ifndef MCPREG_TESTS_SUPPORT_RAW_GRPC_H_
#define MCPREG_TESTS_SUPPORT_RAW_GRPC_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace mcpreg::testing {

struct RawResult {
  grpc::Status status;
  std::string response;
};

RawResult RawUnaryCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& request, absl::Duration timeout = absl::Seconds(10),
    const std::vector<std::pair<std::string, std::string>>& metadata = {});

// A channel that times out connecting instead of hanging.
std::shared_ptr<grpc::Channel> InsecureChannel(const std::string& address);

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_RAW_GRPC_H_
