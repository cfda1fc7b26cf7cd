// mcpreg-load: a closed-loop load generator over real gRPC against a real
// registry (mcpreg-host + libmcpreg.so + a private PostgreSQL), printing
// throughput and latency percentiles per call, and the limits it is measured
// against on this machine:
//   - a bare gRPC echo server (no plugin): the ceiling for GetPluginInfo;
//   - GetPluginInfo through the same host and plugin: the ceiling for
//     CheckToolCall;
//   - pgbench running the register path's SQL at the same concurrency, and
//     pgbench doing the same durable inserts (a server row, an audit row)
//     with no chain or lock of ours: the ceilings for RegisterCustomServer,
//     the second the one outside our design (issue 22).
// And the REST gateway beside gRPC for the same calls (GetPluginInfo, and
// CheckToolCall on an ALLOW_ALL server) on kept-alive connections, 1 and 8
// in flight (--rest_concurrency), with the REST/gRPC ratio.
// Usage: mcpreg-load [--concurrency N] [--seconds S] [--only=check,info]
#include <fcntl.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/closed_loop.h"
#include "bench/process_cpu.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "tests/support/raw_http.h"
#include "tests/support/registry_server.h"

ABSL_FLAG(int, concurrency, 16, "calls in flight (closed loop)");
ABSL_FLAG(int, seconds, 6, "how long each workload runs in all");
ABSL_FLAG(int, rounds, 3,
          "workloads take turns in this many rounds of seconds/rounds each, "
          "so that the machine's speed drifting during a run weighs on every "
          "workload alike");
ABSL_FLAG(bool, durable, true,
          "PostgreSQL with fsync on, as in service (--nodurable: the test "
          "clusters' fsync=off, which makes commits nearly free)");
ABSL_FLAG(std::vector<std::string>, only, {},
          "run only these workloads (echo, info, check, get, register, "
          "pgbench, pgbench-plain, rest), e.g. --only=check to profile one; "
          "default all. "
          "rest: GetPluginInfo and CheckToolCall over REST and over gRPC at "
          "each --rest_concurrency");
ABSL_FLAG(std::vector<std::string>, rest_concurrency,
          std::vector<std::string>({"1", "8"}),
          "calls in flight for the REST/gRPC comparison, one kept-alive "
          "connection (or channel) each");

namespace mcpreg::bench {
namespace {

using testing::RawHttpConnection;
using testing::RawHttpResponse;
using testing::RegistryServer;

// The bare gRPC server: a generic callback service like mcpreg-host's, in a
// child process like mcpreg-host is, answering every call with the bytes of
// a PluginInfo. The client sends it exactly what it sends GetPluginInfo, so
// the two runs differ only by the ABI hop and the plugin.
class EchoService : public grpc::CallbackGenericService {
 public:
  explicit EchoService(std::string answer) : answer_(std::move(answer)) {}

 private:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext*) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(const std::string& answer) : answer_(answer) {
        StartRead(&request_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        grpc::Slice slice(answer_);
        response_ = grpc::ByteBuffer(&slice, 1);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      const std::string& answer_;
      grpc::ByteBuffer request_;
      grpc::ByteBuffer response_;
    };
    return new Reactor(answer_);
  }

  const std::string answer_;
};

// The echo server's child process. It is forked before the parent uses
// gRPC (forking after is unsafe) and waits for the bytes to answer with —
// the plugin's real GetPluginInfo response, known only once the host runs.
class EchoProcess {
 public:
  EchoProcess() {
    int to_child[2], to_parent[2];
    // Close-on-exec: the host process started later must not hold the
    // write end open, or the child never sees the end of its answer.
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(to_parent, O_CLOEXEC) != 0) {
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      close(to_child[1]);
      close(to_parent[0]);
      ServeInChild(to_child[0], to_parent[1]);
    }
    close(to_child[0]);
    close(to_parent[1]);
    to_child_ = to_child[1];
    from_child_ = to_parent[0];
  }
  ~EchoProcess() {
    if (pid_ <= 0) return;
    if (to_child_ >= 0) close(to_child_);  // unblocks a child still waiting
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }

  pid_t pid() const { return pid_; }

  // Hands the child its answer; returns the address it listens on.
  std::string Start(const std::string& answer) {
    (void)!write(to_child_, answer.data(), answer.size());
    close(to_child_);
    to_child_ = -1;
    char buf[32] = {};
    (void)!read(from_child_, buf, sizeof(buf) - 1);
    close(from_child_);
    return absl::StrCat("127.0.0.1:", atoi(buf));
  }

 private:
  [[noreturn]] static void ServeInChild(int in, int out) {
    std::string answer;
    char buf[4096];
    for (ssize_t n; (n = read(in, buf, sizeof(buf))) > 0;)
      answer.append(buf, n);
    EchoService service(answer);
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterCallbackGenericService(&service);
    auto server = builder.BuildAndStart();
    const std::string line = absl::StrCat(port, "\n");
    (void)!write(out, line.data(), line.size());
    server->Wait();
    _exit(0);
  }

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
};

// The register path's SQL, as pgbench runs it: what the plugin sends
// PostgreSQL for one registration once its token and grant caches are warm
// (as they are after the benchmark's first call): the transaction with its
// statement_timeout, whose statements return the rows of the response: a
// new server and its first version are inserted by one statement.
// Prepared statements, like the plugin's, and the same project as its
// registrations, so that the planner's statistics see both alike. The
// audit INSERT and COMMIT go in one pipeline, as the plugin sends them
// (transaction.h's ExecAtCommit). Casts are spelled CAST(...): pgbench
// would read "::type" as a variable.
constexpr char kPgbenchScript[] = R"sql(\set n random(1, 2000000000)
BEGIN;
SET LOCAL statement_timeout = 10000;
WITH s AS (INSERT INTO servers (project_key, name, display_name, repo_key, package_type, latest_version, created_by, version_count, description) VALUES ('ai-research', 'pg-' || :client_id || '-' || :n, 'pypi-ai-pypi-local-pg-' || :client_id || '-' || :n, 'ai-pypi-local', 'pypi', '1.0.0', 'admin', 1, 'bench') ON CONFLICT DO NOTHING RETURNING *), v AS (INSERT INTO server_versions (server_id, version, repo_key, repo_path, readme_path, artifact_sha256, artifact_size, description, environment_variables, runtime_arguments, created_by, seq) SELECT s.id, s.latest_version, s.repo_key, CAST('org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz' AS text), CAST('' AS text), CAST('aaaa' AS text), CAST(100 AS bigint), s.description, CAST('[]' AS jsonb), CAST('[]' AS jsonb), s.created_by, 1 FROM s RETURNING *) SELECT s.id, s.project_key, s.name, s.display_name, s.repo_key, s.package_type, s.latest_version, CAST(extract(epoch FROM s.created_at) * 1000000 AS bigint), CAST(extract(epoch FROM s.updated_at) * 1000000 AS bigint), s.created_by, s.version_count, s.description, v.version, v.repo_key, v.repo_path, v.readme_path, v.artifact_sha256, v.artifact_size, v.description, CAST(v.environment_variables AS text), CAST(v.runtime_arguments AS text), CAST(extract(epoch FROM v.created_at) * 1000000 AS bigint), v.created_by, v.seq FROM s, v;
\startpipeline
INSERT INTO audit_log (actor, action, project_key, server, decision, reason, request_id, details) VALUES ('admin', 'register', 'ai-research', 'pg', 'ALLOW', '', 'req', CAST('{"version":"1.0.0"}' AS jsonb));
COMMIT;
\endpipeline
)sql";

// PostgreSQL doing a registration's durable work with nothing of ours in
// the way: `BEGIN; INSERT` a server row`; INSERT` an audit row`; COMMIT`,
// the audit row into a copy of audit_log without its triggers (no hash
// chain, no chain-head lock). What the issue measures us against.
constexpr char kPlainSetup[] =
    "CREATE TABLE IF NOT EXISTS bench_plain_audit "
    "(LIKE audit_log INCLUDING DEFAULTS)";
constexpr char kPlainPgbenchScript[] = R"sql(\set n random(1, 2000000000)
BEGIN;
INSERT INTO servers (project_key, name, display_name, repo_key, package_type, latest_version, created_by, version_count, description) VALUES ('ai-research', 'plain-' || :client_id || '-' || :n, 'pypi-ai-pypi-local-plain-' || :client_id || '-' || :n, 'ai-pypi-local', 'pypi', '1.0.0', 'admin', 1, 'bench') ON CONFLICT DO NOTHING;
INSERT INTO bench_plain_audit (actor, action, project_key, server, decision, reason, request_id, details) VALUES ('admin', 'register', 'ai-research', 'pg', 'ALLOW', '', 'req', CAST('{"version":"1.0.0"}' AS jsonb));
COMMIT;
)sql";

// Runs `sql` in the registry's database as its owner; false when it failed.
bool RunSql(const RegistryServer& server, const std::string& sql) {
  std::string cmd = absl::StrCat(
      "runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -q -v "
      "ON_ERROR_STOP=1 '",
      server.conninfo(), "' -c \"", sql, "\" > /dev/null");
  if (geteuid() != 0) cmd = cmd.substr(cmd.find("/usr/"));
  return std::system(cmd.c_str()) == 0;
}

// Runs pgbench with `script` against the registry's database; returns its
// tps, or 0.
double Pgbench(const RegistryServer& server, const char* script_text,
               int concurrency, int seconds) {
  const std::string script = testing::WriteTempFile(".sql", script_text);
  const std::string out = testing::WriteTempFile(".out", "");
  std::system(
      absl::StrCat("chmod 644 ", script, " && chmod 666 ", out).c_str());
  // conninfo is "host=DIR port=N dbname=D user=postgres".
  std::string cmd = absl::StrCat(
      "runuser -u postgres -- env PGOPTIONS=-c\\ synchronous_commit=on "
      "/usr/lib/postgresql/15/bin/pgbench -n -M prepared -c ",
      concurrency, " -j ", concurrency, " -T ", seconds, " -f ", script, " '",
      server.conninfo(), "' > ", out, " 2>&1");
  if (geteuid() != 0) cmd = cmd.substr(cmd.find("env "));
  std::system(cmd.c_str());
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::smatch m;
  if (std::regex_search(text, m,
                        std::regex(R"(tps = ([0-9.]+) \(without initial)"))) {
    return std::stod(m[1]);
  }
  std::cerr << "pgbench did not run:\n" << text << "\n";
  return 0;
}

constexpr int kWarmServers = 300;

// One kept-alive REST connection of a load thread: the request sent in one
// write, the response read by its Content-Length. The host ends a connection
// after 1,000 requests ("Connection: close"); the client then opens another,
// as a browser or an SDK would.
class RestClient {
 public:
  explicit RestClient(std::string address) : address_(std::move(address)) {}

  grpc::Status Call(const std::string& request) {
    if (conn_ == nullptr || !conn_->ok()) {
      conn_ = std::make_unique<RawHttpConnection>(address_);
    }
    if (!conn_->SendAll(request)) {
      conn_.reset();
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "REST: send failed");
    }
    std::optional<RawHttpResponse> r = conn_->ReadResponse(absl::Seconds(10));
    if (!r.has_value()) {
      conn_.reset();
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "REST: no response");
    }
    if (r->Header("Connection") == "close") conn_.reset();
    if (r->status != 200) {
      return grpc::Status(grpc::StatusCode::UNKNOWN,
                          absl::StrCat("HTTP ", r->status, ": ", r->body));
    }
    return grpc::Status::OK;
  }

 private:
  const std::string address_;
  std::unique_ptr<RawHttpConnection> conn_;
};

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->AddMetadata("jfrog-project-key", "ai-research");
  return ctx;
}

// One channel per client thread, as separate agents would have, each
// connected (one GetPluginInfo) before it is measured.
std::vector<std::unique_ptr<v1::McpRegistry::Stub>> ConnectedStubs(
    const std::string& address, int count) {
  std::vector<std::unique_ptr<v1::McpRegistry::Stub>> stubs;
  for (int t = 0; t < count; ++t) {
    grpc::ChannelArguments args;
    args.SetInt("mcpreg.bench.channel", t);  // distinct, not shared
    stubs.push_back(v1::McpRegistry::NewStub(grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args)));
    v1::PluginInfo info;
    stubs.back()->GetPluginInfo(Ctx("").get(), v1::GetPluginInfoRequest(),
                                &info);
  }
  return stubs;
}

int Main() {
  const int c = absl::GetFlag(FLAGS_concurrency);
  EchoProcess echo;  // forked before any gRPC use

  std::cout << "starting a private PostgreSQL (fsync "
            << (absl::GetFlag(FLAGS_durable) ? "on" : "off")
            << ") and mcpreg-host...\n";
  RegistryServer server(/*rest=*/true, /*max_connections=*/0,
                        absl::GetFlag(FLAGS_durable));
  if (!server.ok()) {
    std::cerr << server.error() << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<v1::McpRegistry::Stub>> stubs =
      ConnectedStubs(server.address(), c);
  std::string echo_address;
  {
    v1::PluginInfo info;
    stubs[0]->GetPluginInfo(Ctx("").get(), v1::GetPluginInfoRequest(), &info);
    echo_address = echo.Start(info.SerializeAsString());
  }
  const std::string token = server.admin_token();

  // A server with a 100-entry policy for the checks.
  v1::RegisterCustomServerRequest reg;
  reg.set_project_key("ai-research");
  reg.mutable_repo_artifact_info()->set_repo_key("ai-pypi-local");
  reg.mutable_repo_artifact_info()->set_repo_path(
      "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz");
  reg.mutable_mcp_server_info()->set_description("bench");
  reg.mutable_mcp_server_info()->set_version("1.0.0");
  v1::RegisterCustomServerResponse registered;
  stubs[0]->RegisterCustomServer(Ctx(token).get(), reg, &registered);
  v1::SetToolPolicyRequest policy;
  policy.mutable_policy()->set_server("mcp-server");
  policy.mutable_policy()->set_mode(v1::ToolPolicy::ALLOW_LIST);
  for (int i = 0; i < 50; ++i) {
    policy.mutable_policy()->add_entries()->set_pattern(
        absl::StrCat("tool_", i, "_exact"));
    auto* e = policy.mutable_policy()->add_entries();
    e->set_pattern(absl::StrCat("(read|list)_", i, "_[a-z]+"));
    e->set_is_regex(true);
  }
  v1::ToolPolicy set;
  stubs[0]->SetToolPolicy(Ctx(token).get(), policy, &set);
  // And one that allows every tool, for REST and gRPC checks alike.
  constexpr char kAllowAll[] = "bench-allow-all";
  {
    v1::RegisterCustomServerRequest r = reg;
    r.set_name(kAllowAll);
    v1::RegisterCustomServerResponse out;
    stubs[0]->RegisterCustomServer(Ctx(token).get(), r, &out);
    v1::SetToolPolicyRequest p;
    p.mutable_policy()->set_server(kAllowAll);
    p.mutable_policy()->set_mode(v1::ToolPolicy::ALLOW_ALL);
    grpc::Status s = stubs[0]->SetToolPolicy(Ctx(token).get(), p, &set);
    if (!s.ok()) {
      std::cerr << "ALLOW_ALL policy: " << s.error_message() << "\n";
      return 1;
    }
  }

  // Measured in steady state: a registry that already holds servers, with
  // current planner statistics. In service autovacuum keeps them current; a
  // few seconds' run on a fresh database would instead measure the plans
  // PostgreSQL caches for empty tables (each lookup by name scanning the
  // whole project), which the first autovacuum replaces.
  std::cout << "registering " << kWarmServers << " servers, then ANALYZE...\n";
  for (int i = 0; i < kWarmServers; ++i) {
    v1::RegisterCustomServerRequest r = reg;
    r.set_name(absl::StrCat("warm-", i));
    v1::RegisterCustomServerResponse out;
    grpc::Status s = stubs[0]->RegisterCustomServer(Ctx(token).get(), r, &out);
    if (!s.ok()) {
      std::cerr << "registering " << r.name() << ": " << s.error_message()
                << "\n";
      return 1;
    }
  }
  if (server.cluster().Psql("registry", "ANALYZE") != 0) {
    std::cerr << "ANALYZE failed\n";
    return 1;
  }

  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  const int round_seconds =
      std::max(1, (absl::GetFlag(FLAGS_seconds) + rounds - 1) / rounds);
  const absl::Duration slice = absl::Seconds(round_seconds);
  std::cout << "closed loop, " << c << " in flight, " << rounds
            << " interleaved rounds of " << round_seconds
            << "s per workload\n\n";
  // Every workload runs in turn in each round, on channels of its own made
  // for its turn: connected but idle, another workload's channels cost the
  // client's poller on every call (~15% here). The same client call, request
  // and response bytes reach the host and the bare echo: only the server
  // differs.
  const std::vector<std::string> only = absl::GetFlag(FLAGS_only);
  const auto wanted = [&](absl::string_view name) {
    return only.empty() || absl::c_linear_search(only, name);
  };
  const pid_t postmaster = server.cluster().ServerPid();
  const auto host_cpu = [&] {
    return ReadCpu(server.host().pid(), postmaster);
  };
  const auto echo_cpu = [&] { return ReadCpu(echo.pid(), postmaster); };
  using Call = std::function<grpc::Status(v1::McpRegistry::Stub&, int thread,
                                          int64_t i, int round)>;
  // A call over REST: one kept-alive connection per load thread.
  using RestCall = std::function<grpc::Status(RestClient&, int64_t i)>;
  struct Workload {
    std::string key;  // as --only names it
    std::string label;
    bool on_echo = false;
    Call call;            // unset for pgbench and REST
    RestCall rest;        // set for REST
    int concurrency = 0;  // 0: --concurrency
    Result total;
    const char* pgbench = nullptr;  // pgbench's script, for pgbench
    double pgbench_calls = 0;       // pgbench: transactions over all rounds
  };
  std::vector<Workload> workloads;
  const auto add = [&](std::string key, std::string label, bool on_echo,
                       Call call) {
    Workload w;
    w.key = std::move(key);
    w.label = std::move(label);
    w.on_echo = on_echo;
    w.call = std::move(call);
    workloads.push_back(std::move(w));
  };
  const auto plugin_info = [](v1::McpRegistry::Stub& stub, int, int64_t, int) {
    v1::PluginInfo out;
    return stub.GetPluginInfo(Ctx("").get(), v1::GetPluginInfoRequest(), &out);
  };
  add("info", "GetPluginInfo (host + plugin)", false, plugin_info);
  add("check", "CheckToolCall (durable audit)", false,
      [&](v1::McpRegistry::Stub& stub, int, int64_t i, int) {
        v1::CheckToolCallRequest r;
        r.set_server("mcp-server");
        r.set_tool(i % 2 ? absl::StrCat("read_", i % 50, "_docs")
                         : "write_file");
        v1::CheckToolCallResponse out;
        return stub.CheckToolCall(Ctx(token).get(), r, &out);
      });
  add("get", "GetServer", false,
      [&](v1::McpRegistry::Stub& stub, int, int64_t, int) {
        v1::GetServerRequest r;
        r.set_name("mcp-server");
        v1::Server out;
        return stub.GetServer(Ctx(token).get(), r, &out);
      });
  add("register", "RegisterCustomServer", false,
      [&](v1::McpRegistry::Stub& stub, int t, int64_t i, int round) {
        v1::RegisterCustomServerRequest r = reg;
        r.set_name(absl::StrCat("bench-", round, "-", t, "-", i));
        v1::RegisterCustomServerResponse out;
        return stub.RegisterCustomServer(Ctx(token).get(), r, &out);
      });
  add("pgbench", "pgbench (the register path's SQL)", false, nullptr);
  workloads.back().pgbench = kPgbenchScript;
  add("pgbench-plain", "pgbench (plain inserts, no chain)", false, nullptr);
  workloads.back().pgbench = kPlainPgbenchScript;
  if (wanted("pgbench-plain") && !RunSql(server, kPlainSetup)) {
    std::cerr << "could not create the plain-insert baseline's table\n";
    return 1;
  }
  add("echo", "bare gRPC echo (no plugin)", true, plugin_info);

  // REST beside gRPC for the same calls, at each --rest_concurrency. The
  // requests are the same bytes every time, as an SDK's would be.
  const std::string rest_info =
      testing::HttpRequest("GET", "/api/v1/mcp-registry/info");
  const std::string rest_check = testing::HttpRequest(
      "POST", "/api/v1/mcp-registry/check",
      {"Authorization: Bearer " + token, "JFrog-Project-Key: ai-research"},
      absl::StrCat(R"({"server": ")", kAllowAll, R"(", "tool": "read_file"})"));
  const auto grpc_check = [&](v1::McpRegistry::Stub& stub, int, int64_t, int) {
    v1::CheckToolCallRequest r;
    r.set_server(kAllowAll);
    r.set_tool("read_file");
    v1::CheckToolCallResponse out;
    return stub.CheckToolCall(Ctx(token).get(), r, &out);
  };
  struct RestPair {
    std::string call;
    int concurrency;
    size_t grpc, rest;  // indices in workloads
  };
  std::vector<RestPair> rest_pairs;
  for (const std::string& text : absl::GetFlag(FLAGS_rest_concurrency)) {
    int n = 0;
    if (!absl::SimpleAtoi(text, &n) || n < 1) {
      std::cerr << "--rest_concurrency: '" << text << "' is not a count\n";
      return 1;
    }
    for (const auto& [call, grpc_call, request] :
         {std::tuple<std::string, Call, std::string>{"GetPluginInfo",
                                                     plugin_info, rest_info},
          {"check ALLOW_ALL", grpc_check, rest_check}}) {
      RestPair pair{call, n, workloads.size(), workloads.size() + 1};
      add("rest", absl::StrCat("gRPC ", call, ", ", n, " in flight"), false,
          grpc_call);
      workloads.back().concurrency = n;
      add("rest", absl::StrCat("REST ", call, ", ", n, " in flight"), false,
          nullptr);
      workloads.back().concurrency = n;
      workloads.back().rest = [request = request](RestClient& client, int64_t) {
        return client.Call(request);
      };
      rest_pairs.push_back(pair);
    }
  }
  stubs.clear();

  for (int round = 0; round < rounds; ++round) {
    for (Workload& w : workloads) {
      if (!wanted(w.key)) continue;
      const int wc = w.concurrency > 0 ? w.concurrency : c;
      if (w.rest) {  // connections of its own, each connected and used once
        std::vector<RestClient> clients;
        for (int t = 0; t < wc; ++t) {
          clients.emplace_back(server.rest_address());
          (void)w.rest(clients.back(), 0);
        }
        Merge(Run(w.label, wc, slice, host_cpu,
                  [&](int t, int64_t i) { return w.rest(clients[t], i); }),
              w.total);
        continue;
      }
      if (!w.call) {  // pgbench, with the client's CPU its own
        const CpuSeconds before = host_cpu();
        const double tps = Pgbench(server, w.pgbench, c, round_seconds);
        w.total.cpu = w.total.cpu + (host_cpu() - before);
        w.total.seconds += round_seconds;
        w.pgbench_calls += tps * round_seconds;
        continue;
      }
      std::vector<std::unique_ptr<v1::McpRegistry::Stub>> channels =
          ConnectedStubs(w.on_echo ? echo_address : server.address(), wc);
      const std::function<CpuSeconds()> cpu = host_cpu;
      Merge(Run(w.label, wc, slice,
                w.on_echo ? std::function<CpuSeconds()>(echo_cpu) : cpu,
                [&](int t, int64_t i) {
                  return w.call(*channels[t], t, i, round);
                }),
            w.total);
    }
  }
  double info_tps = 0, echo_tps = 0, check_tps = 0, reg_tps = 0, pg_tps = 0,
         plain_tps = 0;
  for (const Workload& w : workloads) {
    if (!wanted(w.key)) continue;
    if (!w.call && !w.rest) {
      const double tps = w.pgbench_calls / std::max(1.0, w.total.seconds);
      (w.pgbench == kPgbenchScript ? pg_tps : plain_tps) = tps;
      std::cout << absl::StrFormat("%-34s %10.0f/s\n", w.label, tps);
      // The client here is pgbench (a waited-for child).
      PrintCpu(w.total.cpu, w.pgbench_calls, "host");
      continue;
    }
    Print(w.total, w.on_echo ? "echo" : "host");
    if (w.key == "info") info_tps = w.total.throughput();
    if (w.key == "echo") echo_tps = w.total.throughput();
    if (w.key == "check") check_tps = w.total.throughput();
    if (w.key == "register") reg_tps = w.total.throughput();
  }
  int64_t errors = 0;
  for (const Workload& w : workloads) errors += w.total.errors;
  if (errors > 0) {
    // Calls failing at once mean the host stopped answering: say why.
    const std::string log = server.host().Stderr();
    std::cout << "mcpreg-host's stderr ends:\n"
              << log.substr(log.size() > 4000 ? log.size() - 4000 : 0) << "\n";
  }

  // A ratio is printed only when both of its workloads ran (see --only).
  std::cout << "\nagainst the limits on this machine:\n";
  const auto ratio = [](absl::string_view label, double a, double b,
                        absl::string_view target) {
    if (a <= 0 || b <= 0) return;
    std::cout << absl::StrFormat("  %-38s %.2f  (target %s)\n", label, a / b,
                                 target);
  };
  ratio("GetPluginInfo / bare echo", info_tps, echo_tps,
        ">= 0.95: the ABI hop costs <= 5%");
  ratio("CheckToolCall / GetPluginInfo", check_tps, info_tps, ">= 0.70");
  ratio("RegisterCustomServer / pgbench", reg_tps, pg_tps, ">= 0.80");
  ratio("RegisterCustomServer / plain inserts", reg_tps, plain_tps,
        ">= 0.80 (issue 22)");
  if (wanted("rest")) {
    std::cout << "\nREST / gRPC, the same call, kept-alive connections:\n";
    for (const RestPair& p : rest_pairs) {
      const double g = workloads[p.grpc].total.throughput();
      const double r = workloads[p.rest].total.throughput();
      std::cout << absl::StrFormat(
          "  %-16s %d in flight: gRPC %7.0f/s  REST %7.0f/s  ratio %.2f "
          "(target >= 0.5)\n",
          p.call, p.concurrency, g, r, g > 0 ? r / g : 0.0);
    }
  }
  return 0;
}

}  // namespace
}  // namespace mcpreg::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As in mcpreg-host (see host/main.cc): Debian's Abseil leaves Mutex
  // deadlock detection on, which gRPC's own locks pay for on every call. The
  // load generator and the bare echo server (forked from it) are measured
  // like the host, as production processes.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return mcpreg::bench::Main();
}
