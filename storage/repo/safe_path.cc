#include "storage/repo/safe_path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mcpreg::storage {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// Length of the UTF-8 sequence starting at s[i], or 0 when it is malformed
// (overlong forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[n] || cp > 0x10FFFF) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

// "%2e", "%2F", "%5c", "%00": encoded forms of the characters the other
// checks refuse. A path here is a storage path, never URL-encoded, so these
// only appear when someone hopes a later layer decodes them.
bool HasEncodedSeparator(absl::string_view path) {
  for (size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] != '%') continue;
    const std::string code = absl::AsciiStrToLower(path.substr(i + 1, 2));
    if (code == "2e" || code == "2f" || code == "5c" || code == "00" ||
        code == "25") {
      return true;
    }
  }
  return false;
}

absl::StatusOr<int> Errno(absl::string_view path, int err) {
  if (err == ENOENT || err == ENOTDIR) {
    return absl::NotFoundError(absl::StrCat("'", path, "' does not exist"));
  }
  if (err == ENXIO) {
    // What opening a socket, or a device without a driver, answers.
    return absl::FailedPreconditionError(absl::StrCat(
        "'", path, "' is not a file (a socket, or a device without a driver)"));
  }
  if (err == EXDEV || err == ELOOP) {
    return absl::PermissionDeniedError(absl::StrCat(
        "'", path, "' resolves outside its repository (a symlink leads out)"));
  }
  return absl::InternalError(
      absl::StrCat("'", path, "': ", std::strerror(err)));
}

}  // namespace

absl::StatusOr<int> OpenBeneathByWalking(int dir_fd, absl::string_view path,
                                         int flags, int mode) {
  if (absl::Status s = CheckRelativePath(path, "path"); !s.ok()) return s;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  int current = dup(dir_fd);
  if (current < 0) return Errno(path, errno);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string part(parts[i]);
    const int next = openat(current, part.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    close(current);
    if (next < 0) return Errno(path, err);
    current = next;
  }
  const std::string last(parts.back());
  const int fd =
      openat(current, last.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  const int err = errno;
  close(current);
  if (fd < 0) return Errno(path, err);
  return fd;
}

absl::Status CheckRelativePath(absl::string_view path,
                               absl::string_view field) {
  if (path.empty()) return Invalid(field, "is required");
  if (path.size() > kMaxPathBytes) {
    return Invalid(field,
                   absl::StrCat("is longer than ", kMaxPathBytes, " bytes"));
  }
  for (size_t i = 0; i < path.size();) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == 0) return Invalid(field, "contains a NUL byte");
    if (c < 0x20 || c == 0x7F) {
      return Invalid(field, "contains a control character");
    }
    const size_t n = Utf8SequenceLength(path, i);
    if (n == 0) return Invalid(field, "is not valid UTF-8");
    i += n;
  }
  if (path.find('\\') != absl::string_view::npos) {
    return Invalid(field, "must use '/' as separator, not '\\'");
  }
  if (path.front() == '/') {
    return Invalid(field, "must be relative to the repository, not absolute");
  }
  if (path.size() >= 2 && absl::ascii_isalpha(path[0]) && path[1] == ':') {
    return Invalid(field, "must not start with a drive letter");
  }
  if (HasEncodedSeparator(path)) {
    return Invalid(field,
                   "must not contain percent-encoded '.', '/', '\\', "
                   "'%' or NUL");
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty()) {
      return Invalid(field, "has an empty component ('//' or a trailing '/')");
    }
    if (part == "." || part == "..") {
      return Invalid(field,
                     "must not contain '.' or '..' components; it must stay "
                     "inside the repository");
    }
    if (part.size() > kMaxPathComponentBytes) {
      return Invalid(field, absl::StrCat("has a component longer than ",
                                         kMaxPathComponentBytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> OpenBeneath(int dir_fd, absl::string_view path, int flags,
                                int mode) {
  // Known absent (ENOSYS): no need to ask the kernel again.
  static std::atomic<bool> openat2_missing{false};
  if (openat2_missing.load(std::memory_order_relaxed)) {
    return OpenBeneathByWalking(dir_fd, path, flags, mode);
  }
  if (absl::Status s = CheckRelativePath(path, "path"); !s.ok()) return s;
  const std::string p(path);
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? static_cast<uint64_t>(mode) : 0;
  // RESOLVE_BENEATH: no "..", absolute symlink or relative one that climbs
  // out; the kernel checks every step, so there is no check-then-use race.
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd = syscall(SYS_openat2, dir_fd, p.c_str(), &how, sizeof(how));
  if (fd >= 0) return static_cast<int>(fd);
  if (errno == ENOSYS) openat2_missing = true;
  // EPERM is not cached: rarely it is the file's own answer (O_NOATIME on
  // another user's file), and walking then reports the same.
  if (errno == ENOSYS || errno == EPERM) {
    return OpenBeneathByWalking(dir_fd, path, flags, mode);
  }
  return Errno(path, errno);
}

}  // namespace mcpreg::storage
