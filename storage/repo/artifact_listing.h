// The files of a repository folder under a path prefix, for people choosing
// an artifact or a README (the web UI's completion). A walk of a folder
// anyone with write access filled: it follows no symlink, opens nothing but
// folders, skips dot-files (our own temporary files among them) and stops
// after a bounded number of entries or at the call's deadline.
#ifndef MCPREG_STORAGE_REPO_ARTIFACT_LISTING_H_
#define MCPREG_STORAGE_REPO_ARTIFACT_LISTING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/repo/call_deadline.h"

namespace mcpreg::storage {

struct ArtifactEntry {
  std::string path;  // relative to the repository
  uint64_t size = 0;
};

struct ArtifactListing {
  std::vector<ArtifactEntry> files;  // sorted by path
  // More files match than were returned, or the walk stopped at its bound.
  bool truncated = false;
};

// Entries (files and folders) one listing looks at before it stops.
inline constexpr size_t kMaxListingVisits = 10000;

// Regular files beneath `repo_dir_fd` whose path starts with `prefix` (""
// for all; "org/pro" matches "org/project/x.tgz"), at most `limit`.
// INVALID_ARGUMENT naming "prefix" when its folder part is not a clean
// relative path; no files when that folder does not exist (yet).
absl::StatusOr<ArtifactListing> ListFilesBeneath(int repo_dir_fd,
                                                 absl::string_view prefix,
                                                 size_t limit,
                                                 const CallDeadline& deadline);

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_ARTIFACT_LISTING_H_
