// Path checks: no input may crash them, and no accepted path may be able to
// leave its repository lexically.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_split.h"
#include "storage/repo/safe_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path(reinterpret_cast<const char*>(data), size);
  if (!mcpreg::storage::CheckRelativePath(path, "path").ok()) return 0;
  if (path.empty() || path.front() == '/' ||
      path.find('\0') != std::string::npos ||
      path.find('\\') != std::string::npos) {
    abort();
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") abort();
  }
  return 0;
}
