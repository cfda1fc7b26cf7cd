// mcpreg: the registry's command-line client (gRPC).
//   mcpreg [global flags] COMMAND [command flags]
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"

namespace mcpreg::cli {
namespace {

constexpr char kGlobalFlags[] = R"(Global flags (before the command):
  --addr HOST:PORT    registry address (default: $MCPREG_ADDR or 127.0.0.1:7443)
  --token-file PATH   read the access token from a file only you can read
                      (default: $MCPREG_TOKEN_FILE; or the token itself in
                      $MCPREG_TOKEN)
  --token TOKEN       the token on the command line (other users can see it)
  --tls               TLS with the system's roots (default: $MCPREG_TLS=1)
  --ca-file PATH      TLS, trusting this CA bundle ($MCPREG_CA_FILE)
  --cert-file PATH    client certificate for mutual TLS ($MCPREG_CERT_FILE)
  --key-file PATH     its private key ($MCPREG_KEY_FILE)
  --project KEY       project key (default: $MCPREG_PROJECT)
  --json              print responses as JSON
  --timeout SECONDS   per-call deadline (default 10)
  -h, --help          this text; `mcpreg COMMAND --help` for a command's flags

Exit codes: 0 ok, 1 the registry refused the request, 2 bad command line,
3 registry unreachable or unavailable (retrying is safe), 4 not authenticated
or not permitted, 5 not found, 6 `check`: the tool call is not allowed.
)";

std::vector<Command> AllCommands() {
  std::vector<Command> all = ServerCommands();
  for (Command& c : GovernanceCommands()) all.push_back(std::move(c));
  for (Command& c : DefinitionCommands()) all.push_back(std::move(c));
  for (Command& c : AdminCommands()) all.push_back(std::move(c));
  for (Command& c : GuardCommands()) all.push_back(std::move(c));
  return all;
}

std::string Usage() {
  std::string out =
      "usage: mcpreg [global flags] COMMAND [flags]\n\nCommands:\n";
  for (const Command& c : AllCommands()) {
    std::string name = "  " + c.name;
    if (name.size() < 22) name.resize(22, ' ');
    absl::StrAppend(&out, name, " ", c.summary, "\n");
  }
  return absl::StrCat(out, "\n", kGlobalFlags);
}

const char* Env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

int Main(int argc, char** argv) {
  GlobalOptions options;
  options.addr = Env("MCPREG_ADDR", "127.0.0.1:7443");
  options.token = Env("MCPREG_TOKEN", "");
  std::string token_file = Env("MCPREG_TOKEN_FILE", "");
  options.project = Env("MCPREG_PROJECT", "");
  const std::string tls_env = Env("MCPREG_TLS", "");
  options.tls = tls_env == "1" || tls_env == "true";
  options.ca_file = Env("MCPREG_CA_FILE", "");
  options.cert_file = Env("MCPREG_CERT_FILE", "");
  options.key_file = Env("MCPREG_KEY_FILE", "");
  std::vector<std::string> args(argv + 1, argv + argc);
  size_t i = 0;
  for (; i < args.size() && absl::StartsWith(args[i], "-"); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << Usage();
      return kOk;
    }
    if (a == "--json") {
      options.json = true;
      continue;
    }
    if (a == "--tls") {
      options.tls = true;
      continue;
    }
    if (a != "--addr" && a != "--token" && a != "--project" &&
        a != "--timeout" && a != "--token-file" && a != "--ca-file" &&
        a != "--cert-file" && a != "--key-file") {
      std::cerr << "mcpreg: unknown global flag " << a << "\n\n" << Usage();
      return kUsage;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "mcpreg: " << a << " needs a value\n";
      return kUsage;
    }
    const std::string& value = args[++i];
    if (a == "--addr") options.addr = value;
    if (a == "--token") {
      options.token = value;
      std::cerr << "mcpreg: warning: --token is visible to other users of "
                   "this machine; prefer $MCPREG_TOKEN or --token-file\n";
    }
    if (a == "--token-file") token_file = value;
    if (a == "--ca-file") options.ca_file = value;
    if (a == "--cert-file") options.cert_file = value;
    if (a == "--key-file") options.key_file = value;
    if (a == "--project") options.project = value;
    if (a == "--timeout") {
      options.timeout_seconds = std::atoi(value.c_str());
      if (options.timeout_seconds <= 0) {
        std::cerr << "mcpreg: --timeout must be a positive number of seconds\n";
        return kUsage;
      }
    }
  }
  if (!options.ca_file.empty() || !options.cert_file.empty()) {
    options.tls = true;
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    std::cerr << "mcpreg: --cert-file and --key-file go together\n";
    return kUsage;
  }
  if (std::string error; !LoadTlsFiles(&options, &error)) {
    std::cerr << "mcpreg: " << error << "\n";
    return kUsage;
  }
  if (!token_file.empty()) {
    std::string error;
    if (!ReadTokenFile(token_file, &options.token, &error)) {
      std::cerr << "mcpreg: " << error << "\n";
      return kUsage;
    }
  }
  std::vector<std::string> rest(args.begin() + static_cast<long>(i),
                                args.end());
  if (rest.empty()) {
    std::cerr << "mcpreg: no command given\n\n" << Usage();
    return kUsage;
  }
  // The longest command whose words start the rest of the line.
  const std::vector<Command> commands = AllCommands();
  const Command* best = nullptr;
  size_t best_words = 0;
  for (const Command& c : commands) {
    std::vector<std::string> words = absl::StrSplit(c.name, ' ');
    if (words.size() > rest.size() || words.size() <= best_words) continue;
    if (std::equal(words.begin(), words.end(), rest.begin())) {
      best = &c;
      best_words = words.size();
    }
  }
  if (best == nullptr) {
    std::cerr << "mcpreg: unknown command '" << absl::StrJoin(rest, " ")
              << "'\n\n"
              << Usage();
    return kUsage;
  }
  options.command = best->name;
  return best->run(
      options, std::vector<std::string>(
                   rest.begin() + static_cast<long>(best_words), rest.end()));
}

}  // namespace

bool ParseFlags(const GlobalOptions& options, const std::string& summary,
                Flags& flags, const std::vector<std::string>& args,
                int* exit_code) {
  const std::string help =
      absl::StrCat("usage: mcpreg ", options.command, " [flags]\n\n", summary,
                   "\n\nFlags:\n", flags.Help());
  std::string error;
  if (!flags.Parse(args, &error)) {
    *exit_code = UsageError(options.command, error, help);
    return false;
  }
  if (flags.help_requested()) {
    std::cout << help;
    *exit_code = kOk;
    return false;
  }
  return true;
}

}  // namespace mcpreg::cli

int main(int argc, char** argv) { return mcpreg::cli::Main(argc, argv); }
