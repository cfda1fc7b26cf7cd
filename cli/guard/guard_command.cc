// mcpreg guard: what an IDE's MCP configuration runs instead of a server.
// It fetches the registered package (or finds it in its cache), verifies
// the digest recorded at registration, starts the server the package
// declares with the registered arguments and the declared environment, and
// proxies MCP over stdio, checking every tool call with the registry
// (cli/guard/mcp_proxy.h). docs/guard.md is the user's side of this.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/guard/artifact_cache.h"
#include "cli/guard/mcp_proxy.h"
#include "cli/guard/package_launch.h"
#include "cli/guard/registry_gate.h"

extern char** environ;

namespace mcpreg::cli {
namespace {

void Log(const std::string& line) {
  std::cerr << "mcpreg guard: " << line << std::endl;
}

std::string NewSessionId() {
  std::random_device device;
  return absl::StrFormat("%08x%08x", device(), device());
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kUnreachable;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kNotAuthorized;
    case absl::StatusCode::kNotFound:
      return kNotFound;
    default:
      return kRefused;
  }
}

// The guard cannot start the server: say why on stderr, and to the MCP
// client too, which is waiting for an answer to its initialize — as an
// error it can show — then end.
int RefuseToStart(const absl::Status& status) {
  const std::string why =
      absl::StrCat("mcpreg guard did not start the server: ", status.message());
  Log(why);
  const absl::Time until = absl::Now() + absl::Seconds(5);
  std::string buffer;
  while (absl::Now() < until) {
    pollfd in = {0, POLLIN, 0};
    if (poll(&in, 1, 200) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(0, chunk, sizeof(chunk));
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t nl;
    bool answered = false;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      nlohmann::json message = nlohmann::json::parse(
          buffer.substr(0, nl), nullptr, /*allow_exceptions=*/false);
      buffer.erase(0, nl + 1);
      if (message.is_object() && message.contains("id") &&
          message.contains("method")) {
        std::cout << nlohmann::json{{"jsonrpc", "2.0"},
                                    {"id", message["id"]},
                                    {"error",
                                     {{"code", -32603}, {"message", why}}}}
                         .dump()
                  << std::endl;
        answered = true;
      }
    }
    if (answered) break;
  }
  return ExitCodeFor(status);
}

// The whole package, a chunk at a time, bounded by its registered size.
absl::StatusOr<std::string> FetchPackage(
    RegistryGate& gate, const v1::FetchArtifactResponse& meta) {
  const uint64_t size = meta.version().artifact_size();
  std::string bytes;
  for (;;) {
    absl::StatusOr<v1::FetchArtifactResponse> chunk =
        gate.Fetch(meta.version().version(), bytes.size(), false);
    if (!chunk.ok()) return chunk.status();
    bytes += chunk->data();
    if (bytes.size() > size) {
      return absl::FailedPreconditionError(
          "the package is larger than registered: it changed in its "
          "repository since; nothing is run");
    }
    if (chunk->eof() || chunk->data().empty()) return bytes;
  }
}

struct Child {
  pid_t pid = -1;
  int stdin_fd = -1;   // ours to write
  int stdout_fd = -1;  // ours to read
};

absl::StatusOr<Child> Spawn(const Launch& launch) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    return absl::InternalError("cannot create pipes for the server");
  }
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : launch.env) {
    env_strings.push_back(absl::StrCat(name, "=", value));
  }
  std::vector<char*> argv, envp;
  for (const std::string& a : launch.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("cannot start the server");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    if (!launch.working_dir.empty() && chdir(launch.working_dir.c_str()) != 0) {
      _exit(126);
    }
    signal(SIGPIPE, SIG_DFL);
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  return Child{pid, in[1], out[0]};
}

// Waits for the server to exit, stopping it if it will not; its status.
int Reap(pid_t pid, absl::Duration grace) {
  int status = 0;
  const absl::Time until = absl::Now() + grace;
  bool termed = false;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return -1;
    if (absl::Now() >= until) {
      kill(pid, termed ? SIGKILL : SIGTERM);
      if (!termed) {
        termed = true;
        continue;
      }
      waitpid(pid, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return status;
}

int Guard(GlobalOptions& options, const std::vector<std::string>& all_args) {
  // Arguments after "--" go to the server as they are.
  std::vector<std::string> args, extra;
  bool rest = false;
  for (const std::string& a : all_args) {
    if (!rest && a == "--") {
      rest = true;
    } else {
      (rest ? extra : args).push_back(a);
    }
  }
  Flags flags;
  flags.String("server", "the server to run: name or display name");
  flags.String("version", "the registered version (default: the latest)");
  flags.String("project",
               "project key (default: --project before the command, or "
               "$MCPREG_PROJECT)");
  flags.Repeated("arg",
                 "NAME=VALUE: a registered runtime argument's value instead "
                 "of its default");
  flags.String("cache-dir",
               "where packages are kept (default: $XDG_CACHE_HOME/mcpreg or "
               "~/.cache/mcpreg)");
  int code;
  if (!ParseFlags(options,
                  "Runs a registered MCP server under the registry's tool "
                  "policy: an IDE's MCP configuration runs this instead of "
                  "the server. Speaks MCP on stdin/stdout; logs on stderr. "
                  "Arguments after -- go to the server.",
                  flags, args, &code)) {
    return code;
  }
  const std::string project =
      flags.Get("project").empty() ? options.project : flags.Get("project");
  if (flags.Get("server").empty() || project.empty()) {
    return UsageError(options.command, "--server and --project are required",
                      flags.Help());
  }
  std::map<std::string, std::string> overrides;
  for (const std::string& a : flags.All("arg")) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError(options.command,
                        absl::StrCat("--arg needs NAME=VALUE, got '", a, "'"),
                        flags.Help());
    }
    overrides[a.substr(0, eq)] = a.substr(eq + 1);
  }
  signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error to handle, not death
  options.project = project;
  // A guard's calls are short; the deadline still bounds a frozen registry.
  RegistryGate gate(options, project, flags.Get("server"), NewSessionId());

  absl::StatusOr<v1::FetchArtifactResponse> meta =
      gate.Fetch(flags.Get("version"), 0, /*metadata_only=*/true);
  if (!meta.ok()) return RefuseToStart(meta.status());
  const v1::ServerVersion& version = meta->version();
  // The tool definitions the server shows are recorded against this one.
  gate.SetVersion(version.version());
  const std::string& path = version.artifact().repo_path();
  const std::string file_name = path.substr(path.rfind('/') + 1);
  Log(absl::StrCat("running ", meta->display_name(), " ", version.version(),
                   " (sha256 ", version.artifact_sha256().substr(0, 12), ")"));

  ArtifactCache cache(flags.Get("cache-dir").empty() ? DefaultCacheRoot()
                                                     : flags.Get("cache-dir"));
  absl::StatusOr<std::string> tree = cache.Prepare(
      version.artifact_sha256(), file_name,
      [&] { return FetchPackage(gate, *meta); },
      [](const std::string& note) { Log(absl::StrCat("package: ", note)); });
  if (!tree.ok()) return RefuseToStart(tree.status());

  const std::string name =
      meta->display_name().substr(meta->display_name().rfind(':') + 1);
  absl::StatusOr<Launch> launch =
      LaunchCommand(*tree, file_name, meta->package_type(), name);
  if (!launch.ok()) return RefuseToStart(launch.status());
  if (absl::Status s = AddRuntimeArguments(version, overrides, extra, *launch);
      !s.ok()) {
    return RefuseToStart(s);
  }
  if (absl::Status s = AddEnvironment(version, environ, *launch); !s.ok()) {
    return RefuseToStart(s);
  }
  absl::StatusOr<Child> child = Spawn(*launch);
  if (!child.ok()) return RefuseToStart(child.status());

  ProxyOptions proxy;
  proxy.display_name = meta->display_name();
  proxy.log = &Log;
  proxy.stop_server = [pid = child->pid] { kill(pid, SIGTERM); };
  const ProxyOutcome outcome =
      RunMcpProxy(gate, 0, 1, child->stdin_fd, child->stdout_fd, proxy);
  close(child->stdout_fd);
  const int status = Reap(child->pid, absl::Seconds(2));
  switch (outcome.why) {
    case ProxyOutcome::Why::kClientClosed:
      return kOk;
    case ProxyOutcome::Why::kUnregistered:
      Log(outcome.message);
      return kNotFound;
    case ProxyOutcome::Why::kServerBroken:
      Log(outcome.message);
      return kRefused;
    case ProxyOutcome::Why::kServerExited:
      if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        Log(absl::StrCat("could not run ", launch->argv[0],
                         ": is it installed and on PATH?"));
      } else {
        Log(absl::StrCat("the MCP server exited",
                         WIFEXITED(status) ? absl::StrCat(" with status ",
                                                          WEXITSTATUS(status))
                                           : std::string(" on a signal")));
      }
      return kRefused;
  }
  return kOk;
}

}  // namespace

std::vector<Command> GuardCommands() {
  return {{"guard",
           "run a registered server under the registry's tool policy (for "
           "IDEs)",
           Guard}};
}

}  // namespace mcpreg::cli
