// The order of a package's versions, as its own ecosystem defines it:
// Semantic Versioning 2.0 precedence for npm, PEP 440 for PyPI. It decides
// which registered version is a server's latest (docs/versions.md).
// Pure functions; versions are compared as written, with numbers of any
// length.
#ifndef MCPREG_STORAGE_REPO_PACKAGE_VERSION_H_
#define MCPREG_STORAGE_REPO_PACKAGE_VERSION_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace mcpreg::storage {

// <0, 0 or >0 as `a` sorts before, with or after `b` for `package_type`
// ("npm": SemVer, "pypi": PEP 440). When either does not parse in that
// scheme, both are tried in the other (the registry accepts either
// spelling for either type); nullopt when no one scheme orders both.
std::optional<int> CompareVersions(absl::string_view package_type,
                                   absl::string_view a, absl::string_view b);

// A pre-release: SemVer's "-beta.1"; PEP 440's a/b/rc and .devN (as pip
// treats them). False for a version that parses in neither scheme.
bool IsPreRelease(absl::string_view package_type, absl::string_view version);

// Whether a newly registered `candidate` becomes the latest version in
// place of `current`: a final release outranks every pre-release, and
// within one kind the higher version wins. Versions that cannot be ordered
// fall back to "registered last wins".
bool SupersedesLatest(absl::string_view package_type,
                      absl::string_view candidate, absl::string_view current);

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_PACKAGE_VERSION_H_
