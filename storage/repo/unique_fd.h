// A file descriptor closed when it goes out of scope: for code that opens
// files beneath a root with openat(2) and must not leak one on any path.
#ifndef MCPREG_STORAGE_REPO_UNIQUE_FD_H_
#define MCPREG_STORAGE_REPO_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace mcpreg::storage {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_;
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_UNIQUE_FD_H_
