// grpc.health.v1.Health/Check: the standard probe load balancers and
// orchestrators use. "" asks about the server as a whole.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_HEALTH_HANDLER_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_HEALTH_HANDLER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpc/health/v1/health.pb.h"
#include "plugin/sdk/call_context.h"

namespace mcpreg {

// `services` are the fully-qualified service names served; any other name is
// NOT_FOUND, as the health protocol specifies. Every served name, and "",
// gets `serving`: the instance's one verdict (its database's health probe).
absl::StatusOr<grpc::health::v1::HealthCheckResponse> HandleHealthCheck(
    const std::vector<std::string>& services, bool serving,
    const sdk::CallContext& ctx,
    const grpc::health::v1::HealthCheckRequest& request);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_HEALTH_HANDLER_H_
