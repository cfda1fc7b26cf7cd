// Package manifests come out of archives anyone can upload: any bytes under
// any of the supported names must be read or refused, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "storage/repo/package_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the file name (and so the expected format).
  static const char* const kNames[] = {"p.tgz", "p-1.0.tar.gz",
                                       "p-1.0-py3-none-any.whl", "p-1.0.zip"};
  const char* name = kNames[data[0] % 4];
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)mcpreg::storage::ReadPackageManifest(name, bytes);
  return 0;
}
