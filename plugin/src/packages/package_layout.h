// Where the npm and PyPI endpoints keep packages in a repository: the
// documented layout (docs/repositories.md) that registration's repoPath
// names. Shared by the handlers and the quickstart's seeding.
#ifndef MCPREG_PLUGIN_SRC_PACKAGES_PACKAGE_LAYOUT_H_
#define MCPREG_PLUGIN_SRC_PACKAGES_PACKAGE_LAYOUT_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace mcpreg::packages {

// "tool" of "@acme/tool"; "tool" of "tool".
inline std::string NpmBaseName(absl::string_view name) {
  const size_t slash = name.find('/');
  return std::string(slash == absl::string_view::npos ? name
                                                      : name.substr(slash + 1));
}

// <name>/-/<base>-<version>.tgz: the path of its tarball URL too.
inline std::string NpmTarballPath(absl::string_view name,
                                  absl::string_view version) {
  return absl::StrCat(name, "/-/", NpmBaseName(name), "-", version, ".tgz");
}

// <name>/-/<base>-<version>.json: the version's manifest as published.
inline std::string NpmManifestPath(absl::string_view name,
                                   absl::string_view version) {
  return absl::StrCat(name, "/-/", NpmBaseName(name), "-", version, ".json");
}

// <normalized-name>/<version>/<filename>.
inline std::string PypiPath(absl::string_view normalized_name,
                            absl::string_view version,
                            absl::string_view filename) {
  return absl::StrCat(normalized_name, "/", version, "/", filename);
}

}  // namespace mcpreg::packages

#endif  // MCPREG_PLUGIN_SRC_PACKAGES_PACKAGE_LAYOUT_H_
