#include "storage/repo/artifact_listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/repo/safe_path.h"

namespace mcpreg::storage {
namespace {

struct Folder {
  int fd;            // owned until the walk closes it
  std::string path;  // relative to the repository, "" or ending in '/'
};

class Walk {
 public:
  explicit Walk(const CallDeadline& deadline) : deadline_(deadline) {}
  ~Walk() {
    for (const Folder& f : pending_) close(f.fd);
  }

  // Lists `folder` (taking its descriptor), keeping files whose name starts
  // with `name_prefix` and queueing matching subfolders.
  absl::Status Visit(Folder folder, absl::string_view name_prefix) {
    DIR* dir = fdopendir(folder.fd);
    if (dir == nullptr) {
      close(folder.fd);
      return absl::InternalError("a repository folder could not be read");
    }
    absl::Status status;
    while (dirent* entry = readdir(dir)) {
      const absl::string_view name = entry->d_name;
      if (absl::StartsWith(name, ".") || !absl::StartsWith(name, name_prefix)) {
        continue;
      }
      if (++visits_ > kMaxListingVisits) {
        truncated_ = true;
        break;
      }
      if (visits_ % 256 == 0) {
        status = deadline_.Check("listing the repository");
        if (!status.ok()) break;
      }
      struct stat st;
      if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;  // gone since readdir
      }
      const std::string path = absl::StrCat(folder.path, name);
      if (S_ISREG(st.st_mode)) {
        files_.push_back({path, static_cast<uint64_t>(st.st_size)});
      } else if (S_ISDIR(st.st_mode)) {
        const int fd = openat(dirfd(dir), entry->d_name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) pending_.push_back({fd, path + "/"});
      }
      // Symlinks, FIFOs, devices and sockets are not artifacts.
    }
    closedir(dir);
    return status;
  }

  // Every folder queued, depth first, until the bound.
  absl::Status Drain() {
    while (!pending_.empty() && !truncated_) {
      Folder next = std::move(pending_.back());
      pending_.pop_back();
      if (absl::Status s = Visit(std::move(next), ""); !s.ok()) return s;
    }
    if (!pending_.empty()) truncated_ = true;
    return absl::OkStatus();
  }

  ArtifactListing Result(size_t limit) && {
    ArtifactListing out;
    std::sort(files_.begin(), files_.end(),
              [](const ArtifactEntry& a, const ArtifactEntry& b) {
                return a.path < b.path;
              });
    out.truncated = truncated_ || files_.size() > limit;
    if (files_.size() > limit) files_.resize(limit);
    out.files = std::move(files_);
    return out;
  }

 private:
  const CallDeadline& deadline_;
  std::vector<Folder> pending_;
  std::vector<ArtifactEntry> files_;
  size_t visits_ = 0;
  bool truncated_ = false;
};

}  // namespace

absl::StatusOr<ArtifactListing> ListFilesBeneath(int repo_dir_fd,
                                                 absl::string_view prefix,
                                                 size_t limit,
                                                 const CallDeadline& deadline) {
  const size_t slash = prefix.rfind('/');
  const absl::string_view folder =
      slash == absl::string_view::npos ? "" : prefix.substr(0, slash);
  const absl::string_view name_prefix =
      slash == absl::string_view::npos ? prefix : prefix.substr(slash + 1);
  int fd = -1;
  if (folder.empty()) {
    if (slash != absl::string_view::npos) {
      return absl::InvalidArgumentError("prefix: must not start with '/'");
    }
    fd = openat(repo_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return absl::InternalError("the repository cannot be read");
  } else {
    if (absl::Status s = CheckRelativePath(folder, "prefix"); !s.ok()) return s;
    absl::StatusOr<int> opened =
        OpenBeneath(repo_dir_fd, folder, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
    if (!opened.ok()) {
      if (opened.status().code() == absl::StatusCode::kNotFound) {
        return ArtifactListing();  // nothing there yet: no files
      }
      return absl::Status(opened.status().code(),
                          absl::StrCat("prefix: ", opened.status().message()));
    }
    fd = *opened;
  }
  Walk walk(deadline);
  const std::string base = folder.empty() ? "" : absl::StrCat(folder, "/");
  if (absl::Status s = walk.Visit({fd, base}, name_prefix); !s.ok()) return s;
  if (absl::Status s = walk.Drain(); !s.ok()) return s;
  return std::move(walk).Result(limit);
}

}  // namespace mcpreg::storage
