// Request validation must refuse or accept any RegisterCustomServerRequest
// without crashing, and whatever it accepts must honour its own limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "validation/register_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mcpreg::v1::RegisterCustomServerRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (mcpreg::ValidateRegisterRequest(request).ok()) {
    const auto& info = request.mcp_server_info();
    if (info.description().empty() ||
        info.description().size() > mcpreg::kMaxDescriptionBytes ||
        info.environment_variables_size() > mcpreg::kMaxEnvironmentVariables ||
        request.repo_artifact_info().repo_path().find("..") == 0) {
      abort();  // accepted something it promises to refuse
    }
  }
  return 0;
}
