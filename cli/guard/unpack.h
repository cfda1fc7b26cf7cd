// Unpacking a package the guard will run: npm tarballs and sdists (tar in
// one gzip layer) and wheels (zip), under the same rules the registry reads
// manifests by — relative paths that stay beneath the target, regular files
// and folders only (no links or devices), bounded size and entry count —
// written beneath the target with openat(O_NOFOLLOW | O_EXCL), so nothing in
// the archive can reach outside it.
#ifndef MCPREG_CLI_GUARD_UNPACK_H_
#define MCPREG_CLI_GUARD_UNPACK_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mcpreg::cli {

struct UnpackLimits {
  uint64_t max_total_bytes = 512ull << 20;  // inflated, all entries
  int max_entries = 20000;
};

// Unpacks `archive` (the package's bytes; `file_name` tells the format:
// .tgz / .tar.gz or .whl / .zip) into the empty folder `target`.
// FAILED_PRECONDITION naming the entry for anything the rules refuse,
// RESOURCE_EXHAUSTED past a limit.
absl::Status UnpackPackage(absl::string_view archive,
                           absl::string_view file_name,
                           const std::string& target,
                           const UnpackLimits& limits = {});

}  // namespace mcpreg::cli

#endif  // MCPREG_CLI_GUARD_UNPACK_H_
