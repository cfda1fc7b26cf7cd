// mcpreg-fleet: the registry as a fleet — one PostgreSQL (fsync on) and
// several mcpreg-host processes on it, each with the real libmcpreg.so —
// measured where a fleet can fail to scale or to agree:
//   - the hosts start together on an empty database: the migrations must be
//     applied exactly once, and every host must serve;
//   - CheckToolCall throughput with one host and with all of them, under
//     the same total client concurrency (closed loop, one channel per
//     client thread);
//   - lock waits on the audit path during those runs, sampled from
//     pg_stat_activity every few milliseconds, and which of them wait for
//     another host's backend (pg_blocking_pids; each host's connections
//     carry its application_name);
//   - a policy changed on host A, then checked on host B at once, many
//     times under background load: the time from A's acknowledgement to
//     the first answer on B that obeys it, and every answer on B that
//     started after the acknowledgement and did not (a stale answer).
// Usage: mcpreg-fleet [--hosts N] [--concurrency C] [--seconds S]
//                     [--policy_changes K]
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/closed_loop.h"
#include "bench/process_cpu.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "storage/pg/migrations.h"
#include "tests/support/host_process.h"
#include "tests/support/pg_cluster.h"

ABSL_FLAG(int, hosts, 2, "mcpreg-host processes on the one database");
ABSL_FLAG(int, concurrency, 8, "checks in flight in all, however many hosts");
ABSL_FLAG(int, seconds, 6, "how long each throughput run lasts");
ABSL_FLAG(int, policy_changes, 100,
          "policy changes on host A, each checked at once on host B");

namespace mcpreg::bench {
namespace {

using testing::HostBinary;
using testing::HostProcess;
using testing::PgCluster;
using testing::PluginPath;
using testing::WriteTempFile;

constexpr char kServer[] = "mcp-server";

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->AddMetadata("jfrog-project-key", "ai-research");
  return ctx;
}

std::unique_ptr<v1::McpRegistry::Stub> Stub(const std::string& address,
                                            int distinct) {
  grpc::ChannelArguments args;
  args.SetInt("mcpreg.bench.channel", distinct);  // not shared
  return v1::McpRegistry::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
}

// The hosts, started at once on an empty database. Host 0 bootstraps the
// admin and seeds the quickstart; the others only serve.
class Fleet {
 public:
  Fleet(PgCluster& cluster, int hosts) {
    conninfo_ = cluster.CreateDatabase("registry");
    char tmpl[] = "/tmp/mcpreg-fleet-XXXXXX";
    home_ = mkdtemp(tmpl);
    for (int i = 0; i < hosts; ++i) {
      const std::string plugin = absl::StrCat(
          R"({"pluginConfig": {"database": {"conninfo": ")", conninfo_,
          " application_name=fleet-host-", i, R"("}, "storageRoot": ")", home_,
          R"(/storage")",
          i == 0 ? absl::StrCat(R"(, "bootstrap": {"adminTokenFile": ")", home_,
                                R"(/admin-token"}, "quickstart": true)")
                 : "",
          "}}");
      hosts_.push_back(std::make_unique<HostProcess>(
          HostBinary(),
          std::vector<std::string>{"--plugin", PluginPath(), "--config",
                                   WriteTempFile(".json", plugin),
                                   "--grpc_listen", "127.0.0.1:0"}));
    }
    for (auto& h : hosts_) {
      std::optional<std::string> address = h->WaitForAddress(absl::Seconds(60));
      if (!address.has_value()) {
        error_ = absl::StrCat("a host did not start:\n", h->Stderr());
        return;
      }
      addresses_.push_back(*address);
    }
    std::stringstream token;
    token << std::ifstream(home_ + "/admin-token").rdbuf();
    token_ = std::string(absl::StripAsciiWhitespace(token.str()));
  }
  ~Fleet() {
    for (auto& h : hosts_) h->Signal(SIGTERM);
    for (auto& h : hosts_) h->Wait(absl::Seconds(20));
    std::system(absl::StrCat("rm -rf '", home_, "'").c_str());
  }

  const std::string& error() const { return error_; }
  const std::string& conninfo() const { return conninfo_; }
  const std::string& token() const { return token_; }
  const std::vector<std::string>& addresses() const { return addresses_; }
  // CPU of every host (as `server`), PostgreSQL and this process so far.
  CpuSeconds Cpu(pid_t postmaster) const {
    CpuSeconds total = ReadCpu(-1, postmaster);
    for (const auto& h : hosts_) total.server += ReadCpu(h->pid(), -1).server;
    return total;
  }

 private:
  std::string conninfo_, home_, token_, error_;
  std::vector<std::unique_ptr<HostProcess>> hosts_;
  std::vector<std::string> addresses_;
};

// Samples the audit path's lock waits while a run lasts.
class LockWaitSampler {
 public:
  explicit LockWaitSampler(const std::string& conninfo)
      : thread_([this, conninfo] { Sample(conninfo); }) {}
  ~LockWaitSampler() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void Print() const {
    std::cout << absl::StrFormat(
        "%-34s %lld samples: audit writers waiting for a lock in %lld "
        "(%.1f%%), %lld waits seen, %lld of them for another host\n",
        "  lock waits on the audit path", static_cast<long long>(samples_),
        static_cast<long long>(samples_with_waits_),
        samples_ > 0 ? 100.0 * samples_with_waits_ / samples_ : 0.0,
        static_cast<long long>(waits_), static_cast<long long>(cross_host_));
  }

 private:
  void Sample(const std::string& conninfo) {
    pqxx::connection c(conninfo);
    // Each waiting audit writer, and whether what blocks it belongs to
    // another host.
    c.prepare("waits", R"sql(
      SELECT w.pid,
             EXISTS (SELECT 1 FROM pg_stat_activity b
                      WHERE b.pid = ANY (pg_blocking_pids(w.pid))
                        AND b.application_name <> w.application_name)
      FROM pg_stat_activity w
      WHERE w.wait_event_type = 'Lock' AND w.query LIKE '%audit_log%'
        AND w.application_name LIKE 'fleet-host-%')sql");
    while (!stop_) {
      pqxx::nontransaction q(c);
      pqxx::result r = q.exec_prepared("waits");
      ++samples_;
      if (!r.empty()) ++samples_with_waits_;
      for (const pqxx::row& row : r) {
        ++waits_;
        if (row[1].as<bool>()) ++cross_host_;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  std::atomic<bool> stop_{false};
  int64_t samples_ = 0, samples_with_waits_ = 0, waits_ = 0, cross_host_ = 0;
  std::thread thread_;
};

grpc::Status Check(v1::McpRegistry::Stub& stub, const std::string& token,
                   const std::string& tool, bool* allowed) {
  v1::CheckToolCallRequest r;
  r.set_server(kServer);
  r.set_tool(tool);
  v1::CheckToolCallResponse out;
  grpc::Status s = stub.CheckToolCall(Ctx(token).get(), r, &out);
  if (allowed != nullptr) *allowed = out.allowed();
  return s;
}

grpc::Status SetPolicy(v1::McpRegistry::Stub& stub, const std::string& token,
                       bool allow_all) {
  v1::SetToolPolicyRequest p;
  p.mutable_policy()->set_server(kServer);
  if (allow_all) {
    p.mutable_policy()->set_mode(v1::ToolPolicy::ALLOW_ALL);
  } else {
    p.mutable_policy()->set_mode(v1::ToolPolicy::ALLOW_LIST);
    p.mutable_policy()->add_entries()->set_pattern("read_file");
  }
  v1::ToolPolicy set;
  return stub.SetToolPolicy(Ctx(token).get(), p, &set);
}

// What the audit log takes on disk: for sizing (docs/performance.md).
struct StorageMark {
  int64_t rows = 0;
  int64_t wal_bytes = 0;    // pg_current_wal_lsn, as bytes
  int64_t table_bytes = 0;  // audit_log with its indexes and TOAST
};

StorageMark ReadStorage(const std::string& conninfo) {
  pqxx::connection c(conninfo);
  pqxx::nontransaction q(c);
  const pqxx::row r = q.exec1(
      "SELECT (SELECT count(*) FROM audit_log), "
      "pg_current_wal_lsn() - '0/0'::pg_lsn, "
      "pg_total_relation_size('audit_log')");
  return {r[0].as<int64_t>(), static_cast<int64_t>(r[1].as<double>()),
          r[2].as<int64_t>()};
}

void PrintStoragePerRow(const StorageMark& before, const StorageMark& after) {
  const double rows = static_cast<double>(after.rows - before.rows);
  if (rows <= 0) return;
  std::cout << absl::StrFormat(
      "%-34s %.0f audit rows: WAL %.0f bytes per row (everything the "
      "database wrote), audit_log with indexes %.0f bytes per row\n",
      "  storage", rows, (after.wal_bytes - before.wal_bytes) / rows,
      (after.table_bytes - before.table_bytes) / rows);
}

// CheckToolCall from `concurrency` threads, thread t on host t % hosts.
Result CheckRun(const Fleet& fleet, pid_t postmaster, int hosts,
                int concurrency, absl::Duration duration,
                const std::string& name) {
  std::vector<std::unique_ptr<v1::McpRegistry::Stub>> stubs;
  for (int t = 0; t < concurrency; ++t) {
    stubs.push_back(Stub(fleet.addresses()[t % hosts], t));
    Check(*stubs.back(), fleet.token(), "read_file", nullptr);  // connected
  }
  LockWaitSampler sampler(fleet.conninfo());
  Result r = Run(
      name, concurrency, duration, [&] { return fleet.Cpu(postmaster); },
      [&](int t, int64_t) {
        return Check(*stubs[t], fleet.token(), "read_file", nullptr);
      });
  sampler.Stop();
  Print(r, "hosts");
  sampler.Print();
  return r;
}

// Changes the policy on host A `changes` times, alternating between one
// that denies write_file and one that allows it; after each
// acknowledgement, checks write_file on host B until the answer obeys it.
// Meanwhile `background` threads keep both hosts busy with checks. False
// when an answer after an acknowledgement allowed what the new policy
// denies, a change was never obeyed, or a call failed.
bool PolicyPropagation(const Fleet& fleet, int changes, int background) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int t = 0; t < background; ++t) {
    load.emplace_back([&, t] {
      auto stub = Stub(fleet.addresses()[t % 2], 1000 + t);
      while (!stop) Check(*stub, fleet.token(), "read_file", nullptr);
    });
  }
  auto a = Stub(fleet.addresses()[0], 2000);
  auto b = Stub(fleet.addresses()[1], 2001);
  bool allowed = false;
  Check(*b, fleet.token(), "write_file", &allowed);  // B's cache is warm
  std::vector<int64_t> micros;
  int64_t stale = 0, stale_allows = 0, errors = 0;
  for (int i = 0; i < changes; ++i) {
    const bool allow_all = !allowed;  // flip what write_file gets
    if (!SetPolicy(*a, fleet.token(), allow_all).ok()) {
      ++errors;
      continue;
    }
    const absl::Time acknowledged = absl::Now();
    for (;;) {
      if (!Check(*b, fleet.token(), "write_file", &allowed).ok()) {
        ++errors;
        break;
      }
      if (allowed == allow_all) {
        micros.push_back(absl::ToInt64Microseconds(absl::Now() - acknowledged));
        break;
      }
      ++stale;
      if (allowed) ++stale_allows;
      if (absl::Now() - acknowledged > absl::Seconds(5)) break;
    }
    absl::SleepFor(absl::Milliseconds(10 + i % 7));  // not in lockstep
  }
  stop = true;
  for (auto& th : load) th.join();
  std::sort(micros.begin(), micros.end());
  const auto at = [&](double p) {
    return micros.empty()
               ? 0.0
               : micros[static_cast<size_t>(p * (micros.size() - 1))] / 1000.0;
  };
  std::cout << absl::StrFormat(
      "policy changed on A, obeyed on B: %zu changes, from A's "
      "acknowledgement to B's first obeying answer p50 %.2f ms, p99 %.2f ms, "
      "max %.2f ms; stale answers after the acknowledgement %lld (allows "
      "%lld); errors %lld\n",
      micros.size(), at(0.5), at(0.99), at(1.0), static_cast<long long>(stale),
      static_cast<long long>(stale_allows), static_cast<long long>(errors));
  return stale_allows == 0 && errors == 0 &&
         micros.size() == static_cast<size_t>(changes);
}

int Main() {
  const int hosts = std::max(2, absl::GetFlag(FLAGS_hosts));
  const int c = std::max(1, absl::GetFlag(FLAGS_concurrency));
  std::cout << "starting a private PostgreSQL (fsync on) and " << hosts
            << " mcpreg-host processes at once on its empty database...\n";
  PgCluster cluster(/*durable=*/true);
  Fleet fleet(cluster, hosts);
  if (!fleet.error().empty()) {
    std::cerr << fleet.error() << "\n";
    return 1;
  }
  {
    pqxx::connection conn(fleet.conninfo());
    pqxx::nontransaction q(conn);
    const pqxx::row m = q.exec1(
        "SELECT count(*), count(DISTINCT version), min(version), "
        "max(version) FROM schema_migrations");
    std::cout << absl::StrFormat(
        "%d hosts serving; schema_migrations holds %d rows for versions "
        "%d..%d (this build knows %d): each migration applied once\n\n",
        hosts, m[0].as<int>(), m[2].as<int>(), m[3].as<int>(),
        storage::pg::KnownSchemaVersion());
    if (m[0].as<int>() != storage::pg::KnownSchemaVersion() ||
        m[1].as<int>() != m[0].as<int>()) {
      std::cerr << "migrations were not applied exactly once\n";
      return 1;
    }
  }
  auto admin = Stub(fleet.addresses()[0], -1);
  v1::RegisterCustomServerRequest reg;
  reg.set_project_key("ai-research");
  reg.mutable_repo_artifact_info()->set_repo_key("ai-pypi-local");
  reg.mutable_repo_artifact_info()->set_repo_path(
      "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz");
  reg.mutable_mcp_server_info()->set_description("fleet");
  reg.mutable_mcp_server_info()->set_version("1.0.0");
  v1::RegisterCustomServerResponse registered;
  grpc::Status s =
      admin->RegisterCustomServer(Ctx(fleet.token()).get(), reg, &registered);
  if (s.ok()) s = SetPolicy(*admin, fleet.token(), /*allow_all=*/true);
  if (!s.ok()) {
    std::cerr << "setting up: " << s.error_message() << "\n";
    return 1;
  }

  const absl::Duration d = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::cout << "CheckToolCall, closed loop, " << c << " in flight in all\n";
  const StorageMark before = ReadStorage(fleet.conninfo());
  const pid_t postmaster = cluster.ServerPid();
  const Result one = CheckRun(fleet, postmaster, 1, c, d, "  1 host");
  PrintStoragePerRow(before, ReadStorage(fleet.conninfo()));
  const Result all = CheckRun(fleet, postmaster, hosts, c, d,
                              absl::StrCat("  ", hosts, " hosts"));
  std::cout << absl::StrFormat(
      "  %d hosts / 1 host: %.0f/s / %.0f/s = %.2f (one machine's 2 cores "
      "run every host, the client and PostgreSQL)\n\n",
      hosts, all.throughput(), one.throughput(),
      one.throughput() > 0 ? all.throughput() / one.throughput() : 0);

  if (one.errors > 0 || all.errors > 0) {
    std::cerr << "checks failed under load\n";
    return 1;
  }
  if (!PolicyPropagation(fleet, absl::GetFlag(FLAGS_policy_changes), c)) {
    std::cerr << "a host answered under a policy replaced before the call\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace mcpreg::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return mcpreg::bench::Main();
}
