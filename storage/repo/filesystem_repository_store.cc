// Repositories as folders under a storage root:
//   <root>/.settings/<key>.json {"key","packageType","repoClass","projectKey",
//                                "anonymousRead"}
//   <root>/<key>/<path>           the artifacts
// Every artifact path is opened beneath its repository's folder with
// OpenBeneath, so neither ".." nor a symlink can lead out of it.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "storage/repo/repository_store.h"
#include "storage/repo/safe_path.h"
#include "storage/repo/sha256.h"
#include "storage/repo/unique_fd.h"

namespace mcpreg::storage {
namespace {

constexpr char kSettingsDir[] = ".settings";
// How long settings must have been unchanged before they are kept parsed.
constexpr absl::Duration kSettleBeforeCaching = absl::Seconds(3);

absl::Status SysError(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

absl::Status TooLarge(absl::string_view what, uint64_t max_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat(what, " is larger than ", max_bytes, " bytes"));
}

// What a file that is neither a regular file nor a folder is.
const char* SpecialFileKind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// OK for a regular file or a folder, FAILED_PRECONDITION for anything else.
// Files are opened O_NONBLOCK, so that opening a FIFO does not wait for a
// writer; a regular file is then set back to blocking reads (which on a
// regular file wait only for the disk).
absl::Status RequireRegularOrFolder(int fd, const struct stat& st,
                                    absl::string_view what) {
  if (S_ISDIR(st.st_mode)) return absl::OkStatus();
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " is ", SpecialFileKind(st.st_mode), ", not a file"));
  }
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return SysError(what, errno);
  }
  return absl::OkStatus();
}

absl::Status ReadAll(int fd, size_t max_bytes, absl::string_view what,
                     const CallDeadline& deadline, std::string* out) {
  const std::string work = absl::StrCat("reading ", what);
  char buffer[1 << 16];
  for (;;) {
    if (absl::Status s = deadline.Check(work); !s.ok()) return s;
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError(what, errno);
    if (n == 0) return absl::OkStatus();
    if (out->size() + static_cast<size_t>(n) > max_bytes) {
      return TooLarge(what, max_bytes);
    }
    out->append(buffer, static_cast<size_t>(n));
  }
}

absl::Status WriteAll(int fd, absl::string_view bytes, absl::string_view what) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError(what, errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// At most `max_bytes`: the file may grow after its size was checked.
absl::StatusOr<std::string> Sha256Hex(int fd, uint64_t max_bytes,
                                      absl::string_view what,
                                      const CallDeadline& deadline) {
  const std::string work = absl::StrCat("hashing ", what);
  Sha256 sha;
  uint64_t hashed = 0;
  char buffer[1 << 16];
  for (;;) {
    if (absl::Status s = deadline.Check(work); !s.ok()) return s;
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError(what, errno);
    if (n == 0) return sha.HexDigest();
    hashed += static_cast<uint64_t>(n);
    if (hashed > max_bytes) return TooLarge(what, max_bytes);
    sha.Update(buffer, static_cast<size_t>(n));
  }
}

bool IsLowerAlnum(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

absl::Status CheckSettings(const RepositoryInfo& info) {
  if (absl::Status s = CheckRepositoryKey(info.key, "key"); !s.ok()) return s;
  if (info.package_type.empty() || info.package_type.size() > 31 ||
      !IsLowerAlnum(info.package_type)) {
    return absl::InvalidArgumentError(
        "packageType: must be 1-31 lower-case letters or digits, e.g. npm, "
        "pypi, docker");
  }
  if (info.repo_class != "local" && info.repo_class != "remote" &&
      info.repo_class != "virtual") {
    return absl::InvalidArgumentError(
        "repoClass: must be one of local, remote, virtual");
  }
  if (info.project_key.size() > 127) {
    return absl::InvalidArgumentError(
        "projectKey: is longer than 127 characters");
  }
  return absl::OkStatus();
}

std::string SettingsJson(const RepositoryInfo& info) {
  google::protobuf::Struct s;
  auto& f = *s.mutable_fields();
  f["key"].set_string_value(info.key);
  f["packageType"].set_string_value(info.package_type);
  f["repoClass"].set_string_value(info.repo_class);
  f["projectKey"].set_string_value(info.project_key);
  if (info.anonymous_read) f["anonymousRead"].set_bool_value(true);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(s, &json, options);
  return json;
}

absl::StatusOr<RepositoryInfo> ParseSettings(absl::string_view json,
                                             absl::string_view what) {
  google::protobuf::Struct s;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &s)
           .ok()) {
    return absl::DataLossError(absl::StrCat(what, " is not valid JSON"));
  }
  const auto field = [&](const char* name) {
    auto it = s.fields().find(name);
    return it == s.fields().end() ? std::string() : it->second.string_value();
  };
  RepositoryInfo info{field("key"), field("packageType"), field("repoClass"),
                      field("projectKey")};
  if (auto it = s.fields().find("anonymousRead"); it != s.fields().end()) {
    info.anonymous_read = it->second.bool_value();
  }
  if (absl::Status st = CheckSettings(info); !st.ok()) {
    return absl::DataLossError(absl::StrCat(what, ": ", st.message()));
  }
  return info;
}

class FilesystemRepositoryStore : public RepositoryStore {
 public:
  FilesystemRepositoryStore(std::string root, Fd root_fd, Fd settings_fd)
      : root_(std::move(root)),
        root_fd_(std::move(root_fd)),
        settings_fd_(std::move(settings_fd)) {}

  absl::StatusOr<RepositoryInfo> GetRepository(absl::string_view key) override {
    if (absl::Status s = CheckRepositoryKey(key, "repoKey"); !s.ok()) {
      return s;
    }
    const std::string file = absl::StrCat(key, ".json");
    const std::string what = absl::StrCat("settings of repository '", key, "'");
    Fd fd(openat(settings_fd_.get(), file.c_str(),
                 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd.valid()) {
      const int err = errno;
      {
        absl::MutexLock lock(&cache_mu_);
        settings_cache_.erase(file);
      }
      if (err == ENOENT) {
        return absl::NotFoundError(
            absl::StrCat("repository '", key, "' does not exist"));
      }
      return SysError(what, err);
    }
    const absl::Time looked = absl::Now();  // before the file's times are read
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return SysError(what, errno);
    if (absl::Status s = RequireRegularOrFolder(fd.get(), st, what); !s.ok()) {
      return s;
    }
    if (std::optional<RepositoryInfo> cached = CachedSettings(file, st)) {
      return *std::move(cached);
    }
    std::string json;
    if (absl::Status s =
            ReadAll(fd.get(), 1 << 20, what, CallDeadline(), &json);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<RepositoryInfo> info = ParseSettings(json, what);
    // A file changed just before it was read could change again without its
    // change time moving (file times come from a coarse clock, 2 s on FAT):
    // read it anew until it has been still for a while.
    if (info.ok() &&
        looked - absl::TimeFromTimespec(st.st_ctim) > kSettleBeforeCaching) {
      absl::MutexLock lock(&cache_mu_);
      settings_cache_[file] = {FileVersion::Of(st), *info};
    }
    return info;
  }

  absl::Status CreateRepository(const RepositoryInfo& info) override {
    if (absl::Status s = CheckSettings(info); !s.ok()) return s;
    // The folder first: a repository whose settings exist always has one.
    if (mkdirat(root_fd_.get(), info.key.c_str(), 0755) != 0 &&
        errno != EEXIST) {
      return SysError(absl::StrCat("creating folder of '", info.key, "'"),
                      errno);
    }
    // Write aside, then link into place: link fails if the name exists, so
    // two concurrent creators cannot both win and nobody sees half a file.
    const std::string tmp = TempName(info.key);
    const std::string file = absl::StrCat(info.key, ".json");
    {
      Fd fd(openat(settings_fd_.get(), tmp.c_str(),
                   O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      if (!fd.valid()) return SysError("writing repository settings", errno);
      absl::Status s = WriteAll(fd.get(), SettingsJson(info), "settings");
      if (s.ok() && fsync(fd.get()) != 0) s = SysError("fsync", errno);
      if (!s.ok()) {
        unlinkat(settings_fd_.get(), tmp.c_str(), 0);
        return s;
      }
    }
    const int rc = linkat(settings_fd_.get(), tmp.c_str(), settings_fd_.get(),
                          file.c_str(), 0);
    const int err = errno;
    unlinkat(settings_fd_.get(), tmp.c_str(), 0);
    if (rc != 0 && err == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat("repository '", info.key, "' already exists"));
    }
    if (rc != 0) return SysError("saving repository settings", err);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<RepositoryInfo>> ListRepositories() override {
    const int fd =
        openat(settings_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return SysError("listing repositories", errno);
    DIR* dir = fdopendir(fd);
    if (dir == nullptr) {
      close(fd);
      return SysError("listing repositories", errno);
    }
    std::vector<std::string> keys;
    while (dirent* entry = readdir(dir)) {
      absl::string_view name = entry->d_name;
      if (!absl::ConsumeSuffix(&name, ".json")) continue;
      if (CheckRepositoryKey(name, "key").ok()) keys.emplace_back(name);
    }
    closedir(dir);
    std::sort(keys.begin(), keys.end());
    std::vector<RepositoryInfo> out;
    for (const std::string& key : keys) {
      absl::StatusOr<RepositoryInfo> info = GetRepository(key);
      if (info.status().code() == absl::StatusCode::kNotFound) continue;
      if (!info.ok()) return info.status();
      out.push_back(std::move(*info));
    }
    return out;
  }

  absl::StatusOr<ArtifactStat> StatArtifact(
      absl::string_view repo_key, absl::string_view path, uint64_t max_bytes,
      const CallDeadline& deadline) override {
    const std::string what = absl::StrCat("'", path, "'");
    struct stat st;
    absl::StatusOr<Fd> fd = OpenArtifact(repo_key, path, what, &st);
    if (!fd.ok()) return fd.status();
    ArtifactStat out;
    out.is_regular_file = S_ISREG(st.st_mode);
    out.size = static_cast<uint64_t>(st.st_size);
    if (out.is_regular_file) {
      // The size first: hashing a file too large to register is wasted.
      if (out.size > max_bytes) return TooLarge(what, max_bytes);
      absl::StatusOr<std::string> digest =
          Sha256Hex(fd->get(), max_bytes, what, deadline);
      if (!digest.ok()) return digest.status();
      out.sha256_hex = std::move(*digest);
    }
    return out;
  }

  absl::StatusOr<std::string> ReadArtifact(
      absl::string_view repo_key, absl::string_view path, size_t max_bytes,
      const CallDeadline& deadline) override {
    const std::string what = absl::StrCat("'", path, "'");
    struct stat st;
    absl::StatusOr<Fd> fd = OpenArtifact(repo_key, path, what, &st);
    if (!fd.ok()) return fd.status();
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " is a folder, not a file"));
    }
    if (static_cast<uint64_t>(st.st_size) > max_bytes) {
      return TooLarge(what, max_bytes);
    }
    std::string out;
    if (absl::Status s = ReadAll(fd->get(), max_bytes, what, deadline, &out);
        !s.ok()) {
      return s;
    }
    return out;
  }

  absl::StatusOr<std::string> ReadArtifactRange(absl::string_view repo_key,
                                                absl::string_view path,
                                                uint64_t offset,
                                                size_t length) override {
    const std::string what = absl::StrCat("'", path, "'");
    struct stat st;
    absl::StatusOr<Fd> fd = OpenArtifact(repo_key, path, what, &st);
    if (!fd.ok()) return fd.status();
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " is a folder, not a file"));
    }
    std::string out;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (offset >= size) return out;
    out.resize(static_cast<size_t>(std::min<uint64_t>(length, size - offset)));
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = pread(fd->get(), out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return SysError(absl::StrCat("reading '", path, "'"), errno);
      if (n == 0) break;  // shrank meanwhile: the digest check will say so
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
  }

  absl::Status WriteArtifact(absl::string_view repo_key, absl::string_view path,
                             absl::string_view bytes) override {
    return Write(repo_key, path, bytes, /*replace=*/true);
  }

  absl::Status PublishArtifact(absl::string_view repo_key,
                               absl::string_view path,
                               absl::string_view bytes) override {
    return Write(repo_key, path, bytes, /*replace=*/false);
  }

  // Into a temporary file beside the target, then renamed over it
  // (`replace`) or linked to its name only if that is free: linkat fails
  // with EEXIST rather than replace, so one of racing writers wins.
  absl::Status Write(absl::string_view repo_key, absl::string_view path,
                     absl::string_view bytes, bool replace) {
    if (absl::Status s = CheckRelativePath(path, "path"); !s.ok()) return s;
    absl::StatusOr<Fd> dir = OpenRepositoryDir(repo_key);
    if (!dir.ok()) return dir.status();
    // Create the parent folders one by one, never following a symlink.
    std::vector<std::string> parts = absl::StrSplit(path, '/');
    Fd current = std::move(*dir);
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (mkdirat(current.get(), parts[i].c_str(), 0755) != 0 &&
          errno != EEXIST) {
        return SysError(absl::StrCat("creating '", parts[i], "'"), errno);
      }
      Fd next(openat(current.get(), parts[i].c_str(),
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next.valid()) {
        return absl::PermissionDeniedError(
            absl::StrCat("'", path, "': '", parts[i],
                         "' is not a folder inside the "
                         "repository"));
      }
      current = std::move(next);
    }
    const std::string tmp = TempName(parts.back());
    Fd fd(openat(current.get(), tmp.c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd.valid())
      return SysError(absl::StrCat("writing '", path, "'"), errno);
    absl::Status s = WriteAll(fd.get(), bytes, path);
    if (s.ok() && fsync(fd.get()) != 0) s = SysError("fsync", errno);
    if (s.ok() && replace &&
        renameat(current.get(), tmp.c_str(), current.get(),
                 parts.back().c_str()) != 0) {
      s = SysError(absl::StrCat("renaming into '", path, "'"), errno);
    }
    if (s.ok() && !replace) {
      if (linkat(current.get(), tmp.c_str(), current.get(),
                 parts.back().c_str(), 0) != 0) {
        s = errno == EEXIST
                ? absl::AlreadyExistsError(
                      absl::StrCat("'", path, "' is already published"))
                : SysError(absl::StrCat("publishing '", path, "'"), errno);
      }
      unlinkat(current.get(), tmp.c_str(), 0);
      if (s.ok()) fsync(current.get());
    } else if (!s.ok()) {
      unlinkat(current.get(), tmp.c_str(), 0);
    }
    return s;
  }

  absl::StatusOr<ArtifactListing> ListArtifacts(
      absl::string_view repo_key, absl::string_view prefix, size_t limit,
      const CallDeadline& deadline) override {
    absl::StatusOr<Fd> dir = OpenRepositoryDir(repo_key);
    if (!dir.ok()) return dir.status();
    return ListFilesBeneath(dir->get(), prefix, limit, deadline);
  }

 private:
  // Unique in the process and short whatever `base` is: a name of the full
  // 255 bytes plus a suffix would not fit in a directory entry. The base's
  // first bytes only help a person reading a folder mid-write.
  std::string TempName(absl::string_view base) {
    return absl::StrCat(".", base.substr(0, 64), ".tmp.", getpid(), ".",
                        counter_++);
  }

  absl::StatusOr<Fd> OpenRepositoryDir(absl::string_view repo_key) {
    absl::StatusOr<RepositoryInfo> info = GetRepository(repo_key);
    if (!info.ok()) return info.status();
    const std::string key(repo_key);
    Fd fd(openat(root_fd_.get(), key.c_str(),
                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      return SysError(absl::StrCat("folder of repository '", key, "'"), errno);
    }
    return fd;
  }

  // Opens a file or folder beneath the repository without blocking, and
  // refuses anything else; `st` receives its status.
  absl::StatusOr<Fd> OpenArtifact(absl::string_view repo_key,
                                  absl::string_view path,
                                  absl::string_view what, struct stat* st) {
    if (absl::Status s = CheckRelativePath(path, "path"); !s.ok()) return s;
    absl::StatusOr<Fd> dir = OpenRepositoryDir(repo_key);
    if (!dir.ok()) return dir.status();
    absl::StatusOr<int> opened =
        OpenBeneath(dir->get(), path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (!opened.ok()) return opened.status();
    Fd fd(*opened);
    if (fstat(fd.get(), st) != 0) return SysError(what, errno);
    if (absl::Status s = RequireRegularOrFolder(fd.get(), *st, what); !s.ok()) {
      return s;
    }
    return fd;
  }

  // Which file a name held when it was read. Settings are replaced by
  // linking a new file into place (a new inode); any edit in place moves the
  // change time, which — unlike the modification time — cannot be set back.
  struct FileVersion {
    dev_t device;
    ino_t inode;
    off_t size;
    int64_t changed_ns;
    static FileVersion Of(const struct stat& st) {
      return {st.st_dev, st.st_ino, st.st_size,
              st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec};
    }
    bool operator==(const FileVersion& o) const {
      return device == o.device && inode == o.inode && size == o.size &&
             changed_ns == o.changed_ns;
    }
  };
  struct CachedRepository {
    FileVersion version;
    RepositoryInfo info;
  };

  // The settings parsed when `file` was last read, if it is still the same
  // file. A registration looks its repository up several times, and
  // protobuf's JSON parser costs tens of microseconds each time.
  std::optional<RepositoryInfo> CachedSettings(const std::string& file,
                                               const struct stat& st) {
    absl::MutexLock lock(&cache_mu_);
    auto it = settings_cache_.find(file);
    if (it == settings_cache_.end() ||
        !(it->second.version == FileVersion::Of(st))) {
      return std::nullopt;
    }
    return it->second.info;
  }

  const std::string root_;
  const Fd root_fd_;
  const Fd settings_fd_;
  std::atomic<uint64_t> counter_{0};
  absl::Mutex cache_mu_;
  // One entry per repository whose settings were read; dropped when they
  // can no longer be opened.
  absl::flat_hash_map<std::string, CachedRepository> settings_cache_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace

absl::Status CheckRepositoryKey(absl::string_view key,
                                absl::string_view field) {
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  }
  const bool ok =
      key.size() <= 64 && std::isalnum(static_cast<unsigned char>(key[0])) &&
      std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      });
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field,
        ": must be 1-64 letters, digits, '.', '_' or '-', starting "
        "with a letter or digit"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RepositoryStore>> NewFilesystemRepositoryStore(
    const std::string& root) {
  if (root.empty()) return absl::InvalidArgumentError("is empty");
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create '", root, "': ", ec.message()));
  }
  Fd root_fd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    return SysError(absl::StrCat("cannot open '", root, "'"), errno);
  }
  if (mkdirat(root_fd.get(), kSettingsDir, 0755) != 0 && errno != EEXIST) {
    return SysError(
        absl::StrCat("cannot create '", root, "/", kSettingsDir, "'"), errno);
  }
  Fd settings_fd(openat(root_fd.get(), kSettingsDir,
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!settings_fd.valid()) {
    return SysError(absl::StrCat("cannot open '", root, "/", kSettingsDir, "'"),
                    errno);
  }
  return std::unique_ptr<RepositoryStore>(new FilesystemRepositoryStore(
      root, std::move(root_fd), std::move(settings_fd)));
}

}  // namespace mcpreg::storage
