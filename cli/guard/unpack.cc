#include "cli/guard/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/repo/safe_path.h"
#include "storage/repo/unique_fd.h"

namespace mcpreg::cli {
using storage::Fd;

namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

absl::Status Refuse(absl::string_view entry, absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("the package's entry '", entry, "' ", why));
}

// Opens (creating when `create`) each folder of `parts` beneath `root`,
// never following a symlink.
absl::StatusOr<Fd> OpenFolders(int root, const std::vector<std::string>& parts,
                               size_t count, absl::string_view entry) {
  Fd current(dup(root));
  for (size_t i = 0; i < count; ++i) {
    if (mkdirat(current.get(), parts[i].c_str(), 0755) != 0 &&
        errno != EEXIST) {
      return Refuse(entry,
                    absl::StrCat("cannot be unpacked: ", std::strerror(errno)));
    }
    Fd next(openat(current.get(), parts[i].c_str(),
                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      return Refuse(entry, "goes through something that is not a folder");
    }
    current = std::move(next);
  }
  return current;
}

absl::Status WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::InternalError(
          absl::StrCat("writing the package: ", std::strerror(errno)));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status UnpackPackage(absl::string_view bytes, absl::string_view file_name,
                           const std::string& target,
                           const UnpackLimits& limits) {
  const bool zip =
      absl::EndsWith(file_name, ".whl") || absl::EndsWith(file_name, ".zip");
  const bool tar =
      absl::EndsWith(file_name, ".tgz") || absl::EndsWith(file_name, ".tar.gz");
  if (!zip && !tar) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", file_name,
                     "' is not a package the guard can run (.tgz, "
                     ".tar.gz or .whl)"));
  }
  std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  if (zip) {
    archive_read_support_format_zip(a.get());
  } else {
    // One gzip layer, as npm pack and sdists make; nothing stacked.
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_tar(a.get());
  }
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) !=
      ARCHIVE_OK) {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", file_name, "' is not a readable package: ",
        archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
  }
  if (tar && archive_filter_count(a.get()) != 2) {  // gzip, then none
    return absl::FailedPreconditionError(absl::StrCat(
        "'", file_name, "' has ", archive_filter_count(a.get()) - 1,
        " compression layers; a package has one"));
  }
  Fd root(open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return absl::InternalError(
        absl::StrCat("cannot open ", target, ": ", std::strerror(errno)));
  }
  uint64_t total = 0;
  int entries = 0;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    archive_entry* entry = nullptr;
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return absl::FailedPreconditionError(absl::StrCat(
          "'", file_name, "' is damaged: ",
          archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
    }
    if (++entries > limits.max_entries) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "'", file_name, "' has more than ", limits.max_entries, " entries"));
    }
    const char* raw = archive_entry_pathname(entry);
    std::string path = raw == nullptr ? "" : raw;
    while (absl::EndsWith(path, "/")) path.pop_back();  // folder entries
    if (path.empty() || path == ".") continue;
    if (absl::StartsWith(path, "./")) path = path.substr(2);
    if (absl::Status s = storage::CheckRelativePath(path, "entry"); !s.ok()) {
      return Refuse(path, "is not a clean relative path");
    }
    const mode_t type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR) {
      return Refuse(path,
                    "is a link or special file; packages the guard "
                    "runs hold files and folders only");
    }
    if (archive_entry_hardlink(entry) != nullptr) {
      return Refuse(path, "is a hard link");
    }
    const std::vector<std::string> parts = absl::StrSplit(path, '/');
    const size_t folders = type == AE_IFDIR ? parts.size() : parts.size() - 1;
    absl::StatusOr<Fd> dir = OpenFolders(root.get(), parts, folders, path);
    if (!dir.ok()) return dir.status();
    if (type == AE_IFDIR) continue;
    const mode_t mode = (archive_entry_perm(entry) & 0111) != 0 ? 0755 : 0644;
    Fd out(openat(dir->get(), parts.back().c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!out.valid()) {
      return Refuse(path,
                    errno == EEXIST ? "appears twice" : "cannot be written");
    }
    for (;;) {
      const la_ssize_t n =
          archive_read_data(a.get(), buffer.data(), buffer.size());
      if (n == 0) break;
      if (n < 0) {
        return Refuse(path, absl::StrCat("is damaged: ",
                                         archive_error_string(a.get())
                                             ? archive_error_string(a.get())
                                             : "?"));
      }
      total += static_cast<uint64_t>(n);
      if (total > limits.max_total_bytes) {
        return absl::ResourceExhaustedError(
            absl::StrCat("'", file_name, "' unpacks to more than ",
                         limits.max_total_bytes >> 20, " MiB"));
      }
      if (absl::Status s =
              WriteAll(out.get(), buffer.data(), static_cast<size_t>(n));
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace mcpreg::cli
