// The mcpreg commands. Each one parses its own flags (`--help` on every
// command) and returns an ExitCode.
#ifndef MCPREG_CLI_COMMANDS_H_
#define MCPREG_CLI_COMMANDS_H_

#include <functional>
#include <string>
#include <vector>

#include "cli/cli_common.h"

namespace mcpreg::cli {

struct Command {
  std::string name;     // words after the global flags: "admin token create"
  std::string summary;  // one line for `mcpreg --help`
  std::function<int(GlobalOptions&, const std::vector<std::string>&)> run;
};

std::vector<Command> ServerCommands();      // info, health, register, get, ...
std::vector<Command> GovernanceCommands();  // policy, check, audit, ...
std::vector<Command> DefinitionCommands();  // definitions list|diff|approve

std::vector<Command> AdminCommands();  // admin repo|token|grant ...
std::vector<Command> GuardCommands();  // guard

// Parses `args` into `flags`; on --help prints the command's help and sets
// *exit_code to 0; on a usage error prints it and sets *exit_code to 2.
// Returns true when the command should go on.
bool ParseFlags(const GlobalOptions& options, const std::string& summary,
                Flags& flags, const std::vector<std::string>& args,
                int* exit_code);

}  // namespace mcpreg::cli

#endif  // MCPREG_CLI_COMMANDS_H_
