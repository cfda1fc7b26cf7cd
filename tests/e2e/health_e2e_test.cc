// Health end to end: grpc.health.v1 and /readyz follow the database — frozen
// (SIGSTOP), stopped, or at a schema version this build does not know — and
// come back with it, while /healthz stays 200, calls still end by their
// deadlines, and the probe keeps one connection. Flip times are printed, and
// only bounded generously: the 1 s promise follows from the probe's figures
// (docs/rest.md), not from a timing assertion.
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "tests/support/eventually.h"
#include "tests/support/raw_grpc.h"
#include "tests/support/registry_server.h"

namespace mcpreg::testing {
namespace {

using grpc::health::v1::HealthCheckResponse;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr absl::Duration kFlipBound = absl::Seconds(5);

// The parent of `pid` from /proc/<pid>/stat ("pid (comm) state ppid ..."; the
// command may hold spaces and parentheses, so read after the last ')'), or -1.
pid_t ParentOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  int ppid = -1;
  if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &ppid)) return -1;
  return ppid;
}

// Every process descended from `root`.
std::set<pid_t> Descendants(pid_t root) {
  std::set<pid_t> found;
  bool grew = true;
  while (grew) {
    grew = false;
    DIR* proc = opendir("/proc");
    while (dirent* e = readdir(proc)) {
      int pid = 0;
      if (!absl::SimpleAtoi(e->d_name, &pid) || found.count(pid) != 0) continue;
      const pid_t parent = ParentOf(pid);
      if (parent == root || found.count(parent) != 0) {
        found.insert(pid);
        grew = true;
      }
    }
    closedir(proc);
  }
  return found;
}

// Every process of a cluster stopped with SIGSTOP for as long as it lives
// (or until Thaw): SIGCONT comes from the destructor too, so a failed
// assertion never leaves a cluster the test cannot stop.
class FrozenCluster {
 public:
  explicit FrozenCluster(PgCluster& cluster) {
    const pid_t postmaster = cluster.ServerPid();
    if (postmaster <= 0) return;
    // The postmaster first: stopped, it forks no backend behind our scan.
    kill(postmaster, SIGSTOP);
    stopped_.push_back(postmaster);
    for (pid_t child : Descendants(postmaster)) {
      if (kill(child, SIGSTOP) == 0) stopped_.push_back(child);
    }
  }
  ~FrozenCluster() { Thaw(); }
  size_t size() const { return stopped_.size(); }

  void Thaw() {
    for (pid_t pid : stopped_) kill(pid, SIGCONT);
    stopped_.clear();
  }

 private:
  std::vector<pid_t> stopped_;
};

class HealthE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RegistryServer>(/*rest=*/true);
    ASSERT_TRUE(server_->ok()) << server_->error();
    channel_ = InsecureChannel(server_->address());
    health_ = grpc::health::v1::Health::NewStub(channel_);
  }
  void TearDown() override {
    if (server_ != nullptr && server_->ok()) {
      EXPECT_EQ(server_->Stop(), 0) << server_->host().Stderr();
    }
  }

  // The status the gRPC health check reports for `service`, or -1 with the
  // call's failure printed.
  int Health(const std::string& service = "") {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::Status s = health_->Check(&ctx, request, &response);
    if (!s.ok()) {
      std::cerr << "health check failed: " << s.error_code() << " "
                << s.error_message() << "\n";
      return -1;
    }
    return response.status();
  }

  httplib::Client Rest() {
    std::vector<std::string> host_port =
        absl::StrSplit(server_->rest_address(), ':');
    httplib::Client client(host_port[0], std::stoi(host_port[1]));
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    return client;
  }
  // The HTTP status of GET (or HEAD) `path`, 0 when there is no answer.
  int RestStatus(const std::string& path, std::string* body = nullptr,
                 bool head = false) {
    httplib::Client client = Rest();
    httplib::Result r = head ? client.Head(path.c_str()) : client.Get(path);
    if (!r) return 0;
    if (body != nullptr) *body = r->body;
    return r->status;
  }

  // Polls until the health check says `status` (and /readyz agrees), at
  // most kFlipBound from `since`; prints how long it took.
  void ExpectFlip(int status, absl::Time since, const std::string& what) {
    const bool flipped = Eventually([&] { return Health() == status; },
                                    kFlipBound - (absl::Now() - since));
    const absl::Duration took = absl::Now() - since;
    std::cout << "[ flip     ] " << what << ": "
              << (flipped ? "" : "still not ")
              << HealthCheckResponse::ServingStatus_Name(
                     static_cast<HealthCheckResponse::ServingStatus>(status))
              << " after " << absl::FormatDuration(took) << std::endl;
    EXPECT_TRUE(flipped) << what << ": not "
                         << HealthCheckResponse::ServingStatus_Name(
                                static_cast<HealthCheckResponse::ServingStatus>(
                                    status))
                         << " within " << kFlipBound << "\n"
                         << server_->host().Stderr();
    const int want_http = status == HealthCheckResponse::SERVING ? 200 : 503;
    EXPECT_TRUE(Eventually([&] { return RestStatus("/readyz") == want_http; },
                           kFlipBound))
        << "/readyz is not " << want_http;
  }

  int64_t HealthConnections() {
    pqxx::connection c(server_->conninfo());
    return pqxx::nontransaction(c)
        .exec(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = 'mcpreg-health'")[0][0]
        .as<int64_t>();
  }
  // The probe holds exactly one connection, and keeps holding one: others
  // a stall left behind may take a moment to be noticed by the server.
  void ExpectOneHealthConnection() {
    EXPECT_TRUE(
        Eventually([&] { return HealthConnections() == 1; }, absl::Seconds(10)))
        << HealthConnections() << " health connections";
    absl::SleepFor(absl::Seconds(1));  // four probe periods
    EXPECT_EQ(HealthConnections(), 1);
  }

  // The probe's log lines, in order: "health: SERVING (...)" or
  // "health: NOT_SERVING (...)".
  std::vector<std::string> HealthLogLines() {
    std::vector<std::string> lines;
    for (absl::string_view line :
         absl::StrSplit(server_->host().Stderr(), '\n')) {
      if (absl::StrContains(line, "health: SERVING (") ||
          absl::StrContains(line, "health: NOT_SERVING (")) {
        lines.emplace_back(line);
      }
    }
    return lines;
  }
  // Logged once per change, not once per probe: verdicts alternate, from
  // SERVING at start to SERVING now, with at least one NOT_SERVING between.
  // (A late probe on a loaded machine may add a pair; that is still true.)
  void ExpectEachChangeLoggedOnce() {
    const std::vector<std::string> lines = HealthLogLines();
    ASSERT_GE(lines.size(), 3u) << server_->host().Stderr();
    for (size_t i = 0; i < lines.size(); ++i) {
      const bool serving = absl::StrContains(lines[i], "health: SERVING");
      EXPECT_EQ(serving, i % 2 == 0) << lines[i];
      // Reasons never carry the conninfo (which may hold a password).
      EXPECT_THAT(lines[i], ::testing::Not(HasSubstr("dbname=")));
    }
    EXPECT_EQ(lines.size() % 2, 1u) << "not SERVING at the end";
  }

  std::unique_ptr<RegistryServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

TEST_F(HealthE2eTest, FrozenDatabaseIsNotServingAndCallsStillEndByDeadline) {
  const std::vector<std::string> served = {"", "mcpreg.v1.McpRegistry",
                                           "mcpreg.v1.McpRegistryAdmin",
                                           "grpc.health.v1.Health"};
  for (const std::string& service : served) {
    EXPECT_EQ(Health(service), HealthCheckResponse::SERVING) << service;
  }
  std::string body;
  EXPECT_EQ(RestStatus("/readyz", &body), 200);
  EXPECT_THAT(body, HasSubstr(R"("status":"SERVING")"));
  EXPECT_EQ(RestStatus("/healthz", &body), 200);
  // The descriptor routes are still the plugin's.
  EXPECT_EQ(RestStatus("/api/v1/mcp-registry/info"), 200);

  FrozenCluster frozen(server_->cluster());
  ASSERT_GT(frozen.size(), 1u) << "no postmaster children found";
  const absl::Time frozen_at = absl::Now();
  ExpectFlip(HealthCheckResponse::NOT_SERVING, frozen_at, "frozen");
  for (const std::string& service : served) {
    EXPECT_EQ(Health(service), HealthCheckResponse::NOT_SERVING) << service;
  }
  EXPECT_EQ(Health("no.such.Service"), -1);  // NOT_FOUND, printed

  EXPECT_EQ(RestStatus("/healthz", &body), 200);
  EXPECT_THAT(body, HasSubstr("ALIVE"));
  EXPECT_EQ(RestStatus("/healthz", nullptr, /*head=*/true), 200);
  EXPECT_EQ(RestStatus("/readyz", &body), 503);
  EXPECT_THAT(body, HasSubstr(R"("status":"NOT_SERVING")"));
  EXPECT_EQ(RestStatus("/readyz", nullptr, /*head=*/true), 503);

  // A call that needs the database ends by its deadline.
  auto registry = v1::McpRegistry::NewStub(channel_);
  grpc::ClientContext ctx;
  const absl::Time called = absl::Now();
  ctx.set_deadline(absl::ToChronoTime(called + absl::Seconds(2)));
  ctx.AddMetadata("authorization", "Bearer " + server_->admin_token());
  v1::GetServerRequest get;
  get.set_project_key("ai-research");
  get.set_name("mcp-server");
  v1::Server got;
  const grpc::StatusCode code =
      registry->GetServer(&ctx, get, &got).error_code();
  const absl::Duration took = absl::Now() - called;
  std::cout << "[ deadline ] GetServer (2s) ended " << code << " after "
            << absl::FormatDuration(took) << std::endl;
  EXPECT_THAT(code, AnyOf(grpc::StatusCode::DEADLINE_EXCEEDED,
                          grpc::StatusCode::UNAVAILABLE));
  EXPECT_LT(took, absl::Seconds(3));

  // Many checks at once all get the latest verdict, and start no probes.
  constexpr int kChecks = 200;
  std::vector<int> statuses(kChecks);
  std::vector<std::thread> checkers;
  for (int i = 0; i < kChecks; ++i) {
    checkers.emplace_back([&, i] { statuses[i] = Health(); });
  }
  for (auto& t : checkers) t.join();
  for (int s : statuses) EXPECT_EQ(s, HealthCheckResponse::NOT_SERVING);

  frozen.Thaw();
  ExpectFlip(HealthCheckResponse::SERVING, absl::Now(), "thawed");
  ExpectOneHealthConnection();
  ExpectEachChangeLoggedOnce();
}

// Longer than the probe's 5 s stall: it drops the connection, reconnects to
// the frozen server (each attempt bounded), and still holds one connection
// once the server is back.
TEST_F(HealthE2eTest, LongFreezeReconnectsWithoutPilingUpConnections) {
  EXPECT_EQ(Health(), HealthCheckResponse::SERVING);
  {
    FrozenCluster frozen(server_->cluster());
    ASSERT_GT(frozen.size(), 1u);
    ExpectFlip(HealthCheckResponse::NOT_SERVING, absl::Now(), "frozen");
    absl::SleepFor(absl::Seconds(8));
    EXPECT_EQ(Health(), HealthCheckResponse::NOT_SERVING);
  }
  ExpectFlip(HealthCheckResponse::SERVING, absl::Now(), "thawed after 8s");
  ExpectOneHealthConnection();
  ExpectEachChangeLoggedOnce();  // not once per failed reconnection
}

TEST_F(HealthE2eTest, StoppedDatabaseIsNotServingUntilItIsBack) {
  EXPECT_EQ(Health(), HealthCheckResponse::SERVING);
  const absl::Time stopping = absl::Now();
  server_->cluster().Stop("immediate");
  ExpectFlip(HealthCheckResponse::NOT_SERVING, stopping, "stopped");
  EXPECT_EQ(RestStatus("/healthz"), 200);
  absl::SleepFor(absl::Seconds(2));  // several failed reconnections
  EXPECT_EQ(Health(), HealthCheckResponse::NOT_SERVING);

  server_->cluster().Start();  // returns once it accepts connections
  ExpectFlip(HealthCheckResponse::SERVING, absl::Now(), "started");
  ExpectOneHealthConnection();
  ExpectEachChangeLoggedOnce();
}

// A probe blocked on a lock is ended by the server (the probe session's
// statement_timeout) before the probe would give up on its connection, so
// no backend is left waiting behind a dropped one.
TEST_F(HealthE2eTest, ProbeBlockedOnALockLeavesNoBackendsBehind) {
  EXPECT_EQ(Health(), HealthCheckResponse::SERVING);
  pqxx::connection holder(server_->conninfo());
  pqxx::work lock(holder);
  lock.exec("LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE");
  ExpectFlip(HealthCheckResponse::NOT_SERVING, absl::Now(), "locked");
  absl::SleepFor(absl::Seconds(12));  // past two 5 s stalls
  EXPECT_EQ(HealthConnections(), 1);
  lock.abort();
  ExpectFlip(HealthCheckResponse::SERVING, absl::Now(), "unlocked");
  ExpectOneHealthConnection();
}

// What the migrations code reads: the highest version in schema_migrations.
TEST_F(HealthE2eTest, SchemaVersionOtherThanThisBuildsIsNotServing) {
  EXPECT_EQ(Health(), HealthCheckResponse::SERVING);
  PgCluster& cluster = server_->cluster();
  const absl::Time migrated = absl::Now();
  ASSERT_EQ(cluster.Psql("registry",
                         "INSERT INTO schema_migrations (version, name) "
                         "VALUES (9999, 'from a newer plugin')"),
            0);
  ExpectFlip(HealthCheckResponse::NOT_SERVING, migrated, "newer schema");
  std::string body;
  EXPECT_EQ(RestStatus("/readyz", &body), 503);
  // The reason names the database's version (and this build's).
  EXPECT_TRUE(Eventually(
      [&] {
        const std::vector<std::string> lines = HealthLogLines();
        return !lines.empty() &&
               absl::StrContains(lines.back(), "NOT_SERVING") &&
               absl::StrContains(lines.back(), "version 9999");
      },
      kFlipBound))
      << server_->host().Stderr();

  const absl::Time reverted = absl::Now();
  ASSERT_EQ(cluster.Psql("registry",
                         "DELETE FROM schema_migrations WHERE version = 9999"),
            0);
  ExpectFlip(HealthCheckResponse::SERVING, reverted, "schema current again");
  EXPECT_EQ(RestStatus("/readyz", &body), 200);
}

}  // namespace
}  // namespace mcpreg::testing
