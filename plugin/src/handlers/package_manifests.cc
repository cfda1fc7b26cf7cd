#include "plugin/src/handlers/package_manifests.h"

#include "absl/strings/str_cat.h"
#include "storage/repo/sha256.h"

namespace mcpreg {

std::string FileName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

absl::StatusOr<storage::PackageManifest> ManifestOf(
    RegistryDependencies& deps, const std::string& repo_key,
    const std::string& path, const std::string& sha256_hex,
    const storage::CallDeadline& deadline, absl::string_view field) {
  const std::string file_name = FileName(path);
  if (std::optional<storage::PackageManifest> cached =
          deps.manifests.Find(sha256_hex, file_name)) {
    return *std::move(cached);
  }
  absl::StatusOr<std::string> bytes = deps.repositories->ReadArtifact(
      repo_key, path, deps.max_artifact_bytes, deadline);
  if (bytes.status().code() == absl::StatusCode::kResourceExhausted) {
    return absl::ResourceExhaustedError(absl::StrCat(
        field, ": the package is larger than the ",
        deps.max_artifact_bytes >> 20, " MiB this registry reads"));
  }
  if (!bytes.ok()) return bytes.status();
  storage::Sha256 digest;
  digest.Update(bytes->data(), bytes->size());
  if (digest.HexDigest() != sha256_hex) {
    return absl::AbortedError(
        absl::StrCat(field,
                     ": the package changed while it was being read; "
                     "retry"));
  }
  absl::StatusOr<storage::PackageManifest> manifest =
      storage::ReadPackageManifest(file_name, *bytes, deadline);
  if (!manifest.ok()) {
    return absl::Status(manifest.status().code(),
                        absl::StrCat(field, ": ", manifest.status().message()));
  }
  return manifest;
}

}  // namespace mcpreg
