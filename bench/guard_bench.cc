// mcpreg-guard-bench: what the guard adds to a tool call. The same MCP
// server (the quickstart's npm sample) is driven over stdio twice in one
// run, launched directly with node and through `mcpreg guard` (which checks
// every call with a real registry: mcpreg-host, libmcpreg.so, PostgreSQL,
// a durable audit row per call), with one call in flight (p50, p99) and
// with eight (calls per second). Both sides of each figure are printed.
// Usage: mcpreg-guard-bench [--calls 2000] [--nodurable]
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/guard/unpack.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/registry_server.h"

ABSL_FLAG(int, calls, 2000, "tools/call requests per measurement");
ABSL_FLAG(bool, durable, true,
          "PostgreSQL with fsync on, as in service (--nodurable: off)");

namespace mcpreg::bench {
namespace {

using testing::RegistryServer;

// An MCP server process spoken to over its stdin and stdout.
class StdioPeer {
 public:
  StdioPeer(const std::vector<std::string>& argv,
            const std::vector<std::string>& env) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      execvpe(args[0], args.data(), envp.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~StdioPeer() {
    close(to_);
    close(from_);
    int status;
    waitpid(pid_, &status, 0);
  }
  bool Send(const std::string& line) {
    const std::string out = line + "\n";
    return write(to_, out.data(), out.size()) ==
           static_cast<ssize_t>(out.size());
  }
  std::string Receive() {
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      char chunk[1 << 16];
      const ssize_t n = read(from_, chunk, sizeof(chunk));
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffer_;
};

std::string Call(int id) {
  return absl::StrCat(
      R"({"jsonrpc":"2.0","id":)", id,
      R"(,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}})");
}

struct Figures {
  double p50_ms = 0, p99_ms = 0, per_second = 0;
  int errors = 0;
};

Figures Measure(StdioPeer& peer, int calls) {
  Figures f;
  peer.Send(
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}})");
  peer.Receive();
  std::vector<double> ms;
  for (int i = 1; i <= calls; ++i) {
    const absl::Time start = absl::Now();
    peer.Send(Call(i));
    if (peer.Receive().find("\"result\"") == std::string::npos) ++f.errors;
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  std::sort(ms.begin(), ms.end());
  f.p50_ms = ms[ms.size() / 2];
  f.p99_ms = ms[ms.size() * 99 / 100];
  // Eight in flight: a new call for each answer.
  constexpr int kInFlight = 8;
  const absl::Time start = absl::Now();
  int sent = 0;
  for (; sent < kInFlight; ++sent) peer.Send(Call(100000 + sent));
  for (int answered = 0; answered < calls; ++answered) {
    if (peer.Receive().find("\"result\"") == std::string::npos) ++f.errors;
    if (sent < calls) peer.Send(Call(100000 + sent++));
  }
  f.per_second = calls / absl::ToDoubleSeconds(absl::Now() - start);
  return f;
}

int Main() {
  const int calls = absl::GetFlag(FLAGS_calls);
  RegistryServer server(/*rest=*/false, 0, absl::GetFlag(FLAGS_durable));
  if (!server.ok()) {
    std::cerr << server.error() << "\n";
    return 1;
  }
  auto stub = v1::McpRegistry::NewStub(grpc::CreateChannel(
      server.address(), grpc::InsecureChannelCredentials()));
  const auto ctx = [&] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", "Bearer " + server.admin_token());
    return c;
  };
  v1::RegisterCustomServerRequest r;
  r.set_project_key("ai-research");
  r.mutable_repo_artifact_info()->set_repo_key("ai-npm-local");
  r.mutable_repo_artifact_info()->set_repo_path(
      "org/project/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz");
  r.mutable_mcp_server_info()->set_description("bench");
  r.mutable_mcp_server_info()->set_version("1.0.0");
  v1::RegisterCustomServerResponse registered;
  v1::SetToolPolicyRequest p;
  p.mutable_policy()->set_project_key("ai-research");
  p.mutable_policy()->set_server("simple-mcp");
  p.mutable_policy()->set_mode(v1::ToolPolicy::ALLOW_ALL);
  v1::ToolPolicy policy;
  if (!stub->RegisterCustomServer(ctx().get(), r, &registered).ok() ||
      !stub->SetToolPolicy(ctx().get(), p, &policy).ok()) {
    std::cerr << "could not register the sample\n";
    return 1;
  }
  // The direct side runs the same package, unpacked here.
  const std::string tree = server.home() + "/direct";
  std::filesystem::create_directories(tree);
  if (!cli::UnpackPackage(storage::BuildNpmTarball(
                              "simple-mcp", "1.0.0",
                              "Example MCP server for the mcpreg quickstart"),
                          "simple-mcp-1.0.0.tgz", tree)
           .ok()) {
    return 1;
  }
  const std::vector<std::string> env = {
      absl::StrCat("PATH=", getenv("PATH")),
      absl::StrCat("MCPREG_ADDR=", server.address()),
      absl::StrCat("MCPREG_TOKEN=", server.admin_token()),
      absl::StrCat("XDG_CACHE_HOME=", server.home(), "/cache")};
  // What bounds the guard: the registry's check, asked the same way the
  // guard asks it (one gRPC call, a durable audit row), alone.
  std::vector<double> check_ms;
  for (int i = 0; i < calls; ++i) {
    v1::CheckToolCallRequest check;
    check.set_project_key("ai-research");
    check.set_server("npm:ai-npm-local:simple-mcp");
    check.set_tool("echo");
    v1::CheckToolCallResponse answer;
    const absl::Time start = absl::Now();
    if (!stub->CheckToolCall(ctx().get(), check, &answer).ok()) {
      std::cerr << "CheckToolCall failed\n";
      return 1;
    }
    check_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  std::sort(check_ms.begin(), check_ms.end());
  Figures direct, guarded;
  {
    StdioPeer peer({"node", tree + "/package/index.js"}, env);
    direct = Measure(peer, calls);
  }
  {
    StdioPeer peer({MCPREG_BENCH_CLI, "guard", "--project", "ai-research",
                    "--server", "npm:ai-npm-local:simple-mcp"},
                   env);
    guarded = Measure(peer, calls);
  }
  std::cout << absl::StrFormat(
      "tools/call, %d calls, fsync %s\n"
      "%-30s %10s %10s %14s\n"
      "%-30s %8.3f ms %8.3f ms %12.0f/s\n"
      "%-30s %8.3f ms %8.3f ms %12.0f/s\n"
      "%-30s %8.3f ms %8.3f ms %13.2fx\n"
      "%-30s %8.3f ms %8.3f ms\n",
      calls, absl::GetFlag(FLAGS_durable) ? "on" : "off", "", "p50", "p99",
      "8 in flight", "server launched directly", direct.p50_ms, direct.p99_ms,
      direct.per_second, "through mcpreg guard", guarded.p50_ms, guarded.p99_ms,
      guarded.per_second, "added by the guard", guarded.p50_ms - direct.p50_ms,
      guarded.p99_ms - direct.p99_ms,
      guarded.per_second / std::max(direct.per_second, 1e-9),
      "of which CheckToolCall alone", check_ms[check_ms.size() / 2],
      check_ms[check_ms.size() * 99 / 100]);
  if (direct.errors + guarded.errors > 0) {
    std::cout << "errors: " << direct.errors << " direct, " << guarded.errors
              << " guarded\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace mcpreg::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  return mcpreg::bench::Main();
}
