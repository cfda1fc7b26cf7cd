#include "plugin/src/handlers/health_handler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace mcpreg {

absl::StatusOr<grpc::health::v1::HealthCheckResponse> HandleHealthCheck(
    const std::vector<std::string>& services, bool serving,
    const sdk::CallContext&,
    const grpc::health::v1::HealthCheckRequest& request) {
  const std::string& service = request.service();
  if (!service.empty() &&
      std::find(services.begin(), services.end(), service) == services.end()) {
    return absl::NotFoundError(
        absl::StrCat("service \"", service, "\" is not served here"));
  }
  grpc::health::v1::HealthCheckResponse response;
  response.set_status(serving
                          ? grpc::health::v1::HealthCheckResponse::SERVING
                          : grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  return response;
}

}  // namespace mcpreg
