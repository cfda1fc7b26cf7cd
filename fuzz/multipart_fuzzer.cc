// PyPI uploads' multipart/form-data parser: no body may crash it, and every
// part it returns lies inside the body it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "plugin/src/packages/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto parts =
      mcpreg::packages::ParseMultipart("multipart/form-data; boundary=b", body);
  if (!parts.ok()) return 0;
  for (const auto& [name, part] : *parts) {
    if (name.empty() || part.content.size() > size ||
        body.find(part.content) == std::string::npos) {
      abort();
    }
  }
  return 0;
}
