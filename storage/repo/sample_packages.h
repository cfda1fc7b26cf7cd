// Small but real packages: each one installs and runs as a stdio MCP server
// with one `echo` tool. The quickstart seeds them; tests build them to parse.
#ifndef MCPREG_STORAGE_REPO_SAMPLE_PACKAGES_H_
#define MCPREG_STORAGE_REPO_SAMPLE_PACKAGES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace mcpreg::storage {

// A file to put in an archive: path inside it and content.
using ArchiveEntry = std::pair<std::string, std::string>;

// A gzip-compressed tar (ustar/pax) of `entries`, deterministic (fixed mtime).
std::string BuildTarGz(const std::vector<ArchiveEntry>& entries);
// A zip of `entries`.
std::string BuildZip(const std::vector<ArchiveEntry>& entries);

// PyPI source distribution `<name_with_underscores>-<version>.tar.gz`.
std::string BuildSdist(absl::string_view name, absl::string_view version,
                       absl::string_view summary);
// PyPI wheel `<name_with_underscores>-<version>-py3-none-any.whl`.
std::string BuildWheel(absl::string_view name, absl::string_view version,
                       absl::string_view summary);
// npm tarball `<name>-<version>.tgz`, as `npm pack` lays it out.
std::string BuildNpmTarball(absl::string_view name, absl::string_view version,
                            absl::string_view description);

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_SAMPLE_PACKAGES_H_
