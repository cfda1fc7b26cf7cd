// The guard's content-addressed cache of packages: <root>/<sha256>/ holds the
// package as fetched (`package`), its unpacked tree (`tree/`) and a list of
// every file in the tree with its SHA-256 (`tree.sha256`). An entry is used
// only when the package still has its digest and the tree still matches its
// list — anything changed, added or removed since is detected, and the
// entry is fetched and unpacked anew. Entries are built in a temporary
// folder and renamed into place, so a guard never sees half of one.
#ifndef MCPREG_CLI_GUARD_ARTIFACT_CACHE_H_
#define MCPREG_CLI_GUARD_ARTIFACT_CACHE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace mcpreg::cli {

// $XDG_CACHE_HOME/mcpreg, else $HOME/.cache/mcpreg.
std::string DefaultCacheRoot();

class ArtifactCache {
 public:
  explicit ArtifactCache(std::string root) : root_(std::move(root)) {}

  // The unpacked tree of the package whose SHA-256 is `sha256_hex`: from the
  // cache when intact, else `fetch`ed (the package's bytes), checked against
  // the digest (FAILED_PRECONDITION on a mismatch: nothing is kept or run)
  // and unpacked. `file_name` tells the package's format. `notes` hears
  // what happened ("cached", "fetched", "tampered: refetched").
  absl::StatusOr<std::string> Prepare(
      const std::string& sha256_hex, const std::string& file_name,
      const std::function<absl::StatusOr<std::string>()>& fetch,
      const std::function<void(const std::string&)>& notes);

 private:
  // OK when <root>/<sha>/ is complete and unchanged.
  absl::Status Verify(const std::string& dir, const std::string& sha256_hex);

  std::string root_;
};

}  // namespace mcpreg::cli

#endif  // MCPREG_CLI_GUARD_ARTIFACT_CACHE_H_
