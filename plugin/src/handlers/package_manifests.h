// A package's own manifest, read from the bytes that were hashed: shared by
// RegisterCustomServer (which checks it against the request) and
// DescribePackage (which shows it to a person choosing a package).
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_PACKAGE_MANIFESTS_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_PACKAGE_MANIFESTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "plugin/src/registry_dependencies.h"
#include "storage/repo/package_manifest.h"

namespace mcpreg {

// "mcp_server-1.0.0.tar.gz" for "org/mcp_server-1.0.0.tar.gz".
std::string FileName(const std::string& path);

// The manifest of the artifact at `path` whose content has digest
// `sha256_hex`: from the cache, or read and unpacked — only if the bytes
// read are the ones hashed, so a package replaced in between is never
// described (or registered) under the old one's digest. Errors start with
// `field`. Nothing is cached here.
absl::StatusOr<storage::PackageManifest> ManifestOf(
    RegistryDependencies& deps, const std::string& repo_key,
    const std::string& path, const std::string& sha256_hex,
    const storage::CallDeadline& deadline, absl::string_view field);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_PACKAGE_MANIFESTS_H_
