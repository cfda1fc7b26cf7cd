// Runs mcpreg-host as a child process for end-to-end tests: starts it, waits
// for its "grpc listening on" line, signals it, and collects its exit status
// and stderr. Never leaves a child behind: the destructor kills it.
#ifndef MCPREG_TESTS_SUPPORT_HOST_PROCESS_H_
#define MCPREG_TESTS_SUPPORT_HOST_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mcpreg::testing {

struct ExitResult {
  bool exited = false;  // false: still running at the timeout, or killed
  int exit_code = -1;   // valid when exited
  int term_signal = 0;  // non-zero when killed by a signal
};

class HostProcess {
 public:
  // Starts `binary` with `args`. stdout is read for the listening line;
  // stderr goes to a temporary file (see Stderr()).
  HostProcess(const std::string& binary, const std::vector<std::string>& args);
  ~HostProcess();

  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  // Waits for "mcpreg-host: grpc listening on ADDR" and returns ADDR, or
  // nullopt if the process exits or `timeout` passes first.
  std::optional<std::string> WaitForAddress(absl::Duration timeout);
  // Waits for a stdout line starting with `prefix` and returns the rest of
  // it, e.g. WaitForLine("mcpreg-host: rest listening on ", ...).
  std::optional<std::string> WaitForLine(absl::string_view prefix,
                                         absl::Duration timeout);

  void Signal(int signal_number);
  // Waits for the process to exit; kills it with SIGKILL at the timeout.
  ExitResult Wait(absl::Duration timeout);

  // Everything the process wrote to stderr so far.
  std::string Stderr() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  std::string stdout_seen_;
  std::optional<ExitResult> result_;
};

// Paths configured by CMake.
std::string HostBinary();
std::string PluginPath();
std::string FixturePath(const std::string& name);  // "libfixture_<name>.so"

// Writes `text` to a new temporary file and returns its path.
std::string WriteTempFile(const std::string& suffix, const std::string& text);

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_HOST_PROCESS_H_
