// Reads a package's own metadata out of its archive, so a registration can
// take the server's name from the package and check that the package type
// matches the repository it sits in.
#ifndef MCPREG_STORAGE_REPO_PACKAGE_MANIFEST_H_
#define MCPREG_STORAGE_REPO_PACKAGE_MANIFEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mcpreg::storage {

struct PackageManifest {
  std::string package_type;  // "npm" or "pypi"
  std::string format;        // "npm tarball", "sdist" or "wheel"
  std::string name;
  std::string version;
  std::string description;
};

// Limits that keep a hostile archive from costing more than a glance.
inline constexpr int kMaxArchiveEntriesScanned = 10000;
inline constexpr size_t kMaxManifestBytes = 1 << 20;
inline constexpr int64_t kMaxInflatedBytes = int64_t{512} << 20;

// `file_name` picks the format: "*.tgz" (npm: `package/package.json`),
// "*.tar.gz" (sdist: `<dir>/PKG-INFO`, or an npm tarball), "*.whl" (wheel:
// `<dir>.dist-info/METADATA`). FAILED_PRECONDITION, with a message that can
// follow a field path, when the bytes are not such a package.
absl::StatusOr<PackageManifest> ReadPackageManifest(absl::string_view file_name,
                                                    absl::string_view bytes);

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_PACKAGE_MANIFEST_H_
