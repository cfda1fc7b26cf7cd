// Reads a package's own metadata out of its archive, so a registration can
// take the server's name from the package and check that the package type
// matches the repository it sits in.
#ifndef MCPREG_STORAGE_REPO_PACKAGE_MANIFEST_H_
#define MCPREG_STORAGE_REPO_PACKAGE_MANIFEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/repo/bounded_archive.h"
#include "storage/repo/call_deadline.h"

namespace mcpreg::storage {

struct PackageManifest {
  std::string package_type;  // "npm" or "pypi"
  std::string format;        // "npm tarball", "sdist" or "wheel"
  std::string name;
  std::string version;
  std::string description;
};

// The largest manifest read. The archive's own limits (entries, bytes
// inflated, compression ratio) are ArchiveLimits'.
inline constexpr size_t kMaxManifestBytes = 1 << 20;

// `file_name` picks the format: "*.tgz" (npm: `package/package.json`),
// "*.tar.gz" (sdist: `<dir>/PKG-INFO`, or an npm tarball), "*.whl" (wheel:
// `<dir>.dist-info/METADATA`), "*.zip" (sdist). Errors have a message that
// can follow a field path: FAILED_PRECONDITION when the bytes are not such a
// package; RESOURCE_EXHAUSTED over one of `limits`; DEADLINE_EXCEEDED or
// CANCELLED from `deadline` (see BoundedArchiveReader).
absl::StatusOr<PackageManifest> ReadPackageManifest(
    absl::string_view file_name, absl::string_view bytes,
    const CallDeadline& deadline = CallDeadline(),
    const ArchiveLimits& limits = ArchiveLimits());

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_PACKAGE_MANIFEST_H_
