#include "tests/support/host_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/time/clock.h"

namespace mcpreg::testing {
namespace {

constexpr char kListening[] = "mcpreg-host: grpc listening on ";

std::string MakeTemp(const std::string& suffix) {
  std::string path = "/tmp/mcpreg-test-XXXXXX" + suffix;
  int fd = mkstemps(path.data(), static_cast<int>(suffix.size()));
  if (fd >= 0) close(fd);
  return path;
}

}  // namespace

HostProcess::HostProcess(const std::string& binary,
                         const std::vector<std::string>& args) {
  stderr_path_ = MakeTemp(".stderr");
  int out[2];
  if (pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    int err = open(stderr_path_.c_str(), O_WRONLY | O_TRUNC);
    dup2(err, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  stdout_fd_ = out[0];
}

HostProcess::~HostProcess() {
  if (pid_ > 0 && !result_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
  unlink(stderr_path_.c_str());
}

std::optional<std::string> HostProcess::WaitForAddress(absl::Duration timeout) {
  return WaitForLine(kListening, timeout);
}

std::optional<std::string> HostProcess::WaitForLine(absl::string_view prefix,
                                                    absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end && stdout_fd_ >= 0) {
    const size_t at = stdout_seen_.find(prefix.data(), 0, prefix.size());
    if (at != std::string::npos) {
      const size_t start = at + prefix.size();
      const size_t eol = stdout_seen_.find('\n', start);
      if (eol != std::string::npos) {
        return stdout_seen_.substr(start, eol - start);
      }
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    const int ms =
        static_cast<int>(absl::ToInt64Milliseconds(end - absl::Now()));
    if (poll(&p, 1, ms > 0 ? ms : 0) <= 0) continue;
    char buf[512];
    const ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n <= 0) break;  // the process closed stdout: it exited
    stdout_seen_.append(buf, static_cast<size_t>(n));
  }
  return std::nullopt;
}

void HostProcess::Signal(int signal_number) {
  if (pid_ > 0 && !result_) kill(pid_, signal_number);
}

ExitResult HostProcess::Wait(absl::Duration timeout) {
  if (result_) return *result_;
  const absl::Time end = absl::Now() + timeout;
  int status = 0;
  while (absl::Now() < end) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      ExitResult res;
      res.exited = WIFEXITED(status);
      res.exit_code = res.exited ? WEXITSTATUS(status) : -1;
      res.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
      result_ = res;
      return res;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  result_ = ExitResult{false, -1, SIGKILL};
  return *result_;
}

std::string HostProcess::Stderr() const {
  std::ifstream in(stderr_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string HostBinary() { return MCPREG_TEST_HOST_BINARY; }
std::string PluginPath() { return MCPREG_TEST_PLUGIN_PATH; }
std::string FixturePath(const std::string& name) {
  return std::string(MCPREG_TEST_FIXTURE_DIR) + "/libfixture_" + name + ".so";
}

std::string WriteTempFile(const std::string& suffix, const std::string& text) {
  std::string path = MakeTemp(suffix);
  std::ofstream(path) << text;
  return path;
}

}  // namespace mcpreg::testing
