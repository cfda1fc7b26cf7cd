// Request validation must refuse or accept any RegisterCustomServerRequest
// without crashing, and whatever it accepts must honour its own limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/str_split.h"
#include "plugin/src/validation/register_validation.h"

namespace {

// A path that could climb out of its repository: absolute, or with a ".."
// component. ("..g" is a name like any other.)
bool Climbs(const std::string& path) {
  if (!path.empty() && path[0] == '/') return true;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mcpreg::v1::RegisterCustomServerRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (mcpreg::ValidateRegisterRequest(request).ok()) {
    const auto& info = request.mcp_server_info();
    if (info.description().empty() ||
        info.description().size() > mcpreg::kMaxDescriptionBytes ||
        info.environment_variables_size() > mcpreg::kMaxEnvironmentVariables ||
        Climbs(request.repo_artifact_info().repo_path())) {
      abort();  // accepted something it promises to refuse
    }
  }
  return 0;
}
