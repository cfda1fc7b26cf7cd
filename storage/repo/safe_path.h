// Path hygiene for artifact paths that arrive in requests. Lexical checks
// refuse anything that could name a file outside its repository before the
// filesystem is touched; ResolveBeneath then opens the file so that even
// symlinks cannot lead out.
#ifndef MCPREG_STORAGE_REPO_SAFE_PATH_H_
#define MCPREG_STORAGE_REPO_SAFE_PATH_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mcpreg::storage {

inline constexpr size_t kMaxPathBytes = 1024;
inline constexpr size_t kMaxPathComponentBytes = 255;

// OK when `path` is a clean relative path: non-empty, at most kMaxPathBytes,
// valid UTF-8 without control characters, no leading '/', no backslash, no
// drive letter, no empty, "." or ".." component, no percent-encoded '.', '/',
// '\' or NUL. Errors are INVALID_ARGUMENT and start with `field`.
absl::Status CheckRelativePath(absl::string_view path, absl::string_view field);

// Opens `path` (already checked) beneath the directory `dir_fd`, refusing to
// leave it through ".." or symlinks. Returns an owned file descriptor.
// `flags` are open(2) flags (O_RDONLY, O_CREAT are fine; O_CLOEXEC is added).
// NOT_FOUND when absent; PERMISSION_DENIED when resolution would escape;
// FAILED_PRECONDITION when the kernel cannot open it at all (ENXIO: a
// socket). Pass O_NONBLOCK to open a FIFO without waiting for a writer.
// Uses openat2(RESOLVE_BENEATH); where the kernel lacks it (ENOSYS, before
// 5.6) or a seccomp profile refuses it (EPERM, as container runtimes' older
// default profiles do), falls back to OpenBeneathByWalking.
absl::StatusOr<int> OpenBeneath(int dir_fd, absl::string_view path, int flags,
                                int mode = 0);

// The same contract without openat2: opens one component at a time with
// O_NOFOLLOW, so it refuses every symlink, even one that stays inside.
absl::StatusOr<int> OpenBeneathByWalking(int dir_fd, absl::string_view path,
                                         int flags, int mode = 0);

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_SAFE_PATH_H_
