// How the guard starts the server a package declares, from its unpacked
// tree: npm's `bin` with node; a wheel's console_scripts entry point (or
// `python3 -m` its module) with the tree on PYTHONPATH; an sdist's
// [project.scripts] entry (or __main__ module) from its source tree, which
// must be pure Python and carry its dependencies (docs/guard.md). Then the
// registered runtime arguments, and the environment it runs with.
#ifndef MCPREG_CLI_GUARD_PACKAGE_LAUNCH_H_
#define MCPREG_CLI_GUARD_PACKAGE_LAUNCH_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcpreg/v1/registry.pb.h"

namespace mcpreg::cli {

struct Launch {
  std::vector<std::string> argv;           // argv[0] found on PATH
  std::map<std::string, std::string> env;  // the child's whole environment
  std::string working_dir;                 // the package's root folder
};

// The command that runs the package unpacked at `tree` (its file name, the
// package type and name as registered tell which kind it is).
absl::StatusOr<Launch> LaunchCommand(const std::string& tree,
                                     const std::string& file_name,
                                     const std::string& package_type,
                                     const std::string& package_name);

// Appends the registered arguments: each with the user's override (by name)
// or its default; one with neither is left out, unless it is required:
// then FAILED_PRECONDITION naming it. `extra` goes last, as given.
absl::Status AddRuntimeArguments(
    const v1::ServerVersion& version,
    const std::map<std::string, std::string>& overrides,
    const std::vector<std::string>& extra, Launch& launch);

// The child's environment: this process's, without the guard's own
// MCPREG_* settings (the registry token is not the server's business), and
// with every declared variable that is set. FAILED_PRECONDITION naming the
// first required variable that is not set. Values are never logged.
absl::Status AddEnvironment(const v1::ServerVersion& version, char** environ_in,
                            Launch& launch);

}  // namespace mcpreg::cli

#endif  // MCPREG_CLI_GUARD_PACKAGE_LAUNCH_H_
