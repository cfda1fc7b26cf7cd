// Faults, end to end and bounded in time: PostgreSQL crashing under load,
// an exhausted pool, callers who give up, and two hosts racing on one
// database. The registry must lose nothing it acknowledged, write nothing
// by halves, and recover by itself.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "tests/support/eventually.h"
#include "tests/support/host_process.h"
#include "tests/support/raw_grpc.h"
#include "tests/support/registry_server.h"

namespace mcpreg::testing {
namespace {

using ::testing::AnyOf;

v1::RegisterCustomServerRequest Request(const std::string& name) {
  v1::RegisterCustomServerRequest r;
  r.set_project_key("ai-research");
  r.set_name(name);
  r.mutable_repo_artifact_info()->set_repo_key("ai-pypi-local");
  r.mutable_repo_artifact_info()->set_repo_path(
      "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz");
  r.mutable_mcp_server_info()->set_description("load");
  r.mutable_mcp_server_info()->set_version("1.0.0");
  return r;
}

struct Outcome {
  grpc::StatusCode code;
  bool created = false;
  std::string message;
};

Outcome Register(v1::McpRegistry::Stub& stub, const std::string& token,
                 const std::string& name, absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ctx.AddMetadata("authorization", "Bearer " + token);
  v1::RegisterCustomServerResponse out;
  grpc::Status s = stub.RegisterCustomServer(&ctx, Request(name), &out);
  return {s.error_code(), s.ok() && out.created(), s.error_message()};
}

int64_t Count(const std::string& conninfo, const std::string& sql) {
  pqxx::connection c(conninfo);
  pqxx::nontransaction q(c);
  return q.exec(sql)[0][0].as<int64_t>();
}

TEST(FaultE2eTest, DatabaseCrashUnderLoadLosesNothingAcknowledged) {
  RegistryServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto stub = v1::McpRegistry::NewStub(InsecureChannel(server.address()));
  std::mutex mu;
  std::map<std::string, Outcome> outcomes;
  std::atomic<bool> stop{false};
  std::atomic<bool> restarted{false};
  std::atomic<int> ok_after_restart{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const std::string name = absl::StrCat("load-", t, "-", i);
        const bool after = restarted;
        Outcome o =
            Register(*stub, server.admin_token(), name, absl::Seconds(2));
        if (after && o.code == grpc::StatusCode::OK) ++ok_after_restart;
        std::lock_guard<std::mutex> lock(mu);
        outcomes[name] = o;
        if (o.code != grpc::StatusCode::OK) {
          absl::SleepFor(absl::Milliseconds(50));
        }
      }
    });
  }
  absl::SleepFor(absl::Seconds(1));
  server.cluster().Stop("immediate");  // a crash, mid-transaction
  absl::SleepFor(absl::Seconds(1));
  server.cluster().Start();
  restarted = true;
  // The service must heal by itself, with no help from the test.
  const absl::Time until = absl::Now() + absl::Seconds(20);
  while (absl::Now() < until && ok_after_restart < 5) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_GE(ok_after_restart.load(), 5) << "the registry did not recover";

  int acknowledged = 0, failed = 0;
  for (const auto& [name, outcome] : outcomes) {
    const grpc::StatusCode code = outcome.code;
    if (code == grpc::StatusCode::OK) {
      ++acknowledged;
      // Every acknowledged registration survived the crash, with its audit.
      EXPECT_EQ(
          Count(server.conninfo(),
                absl::StrCat("SELECT count(*) FROM servers WHERE name = '",
                             name, "'")),
          1)
          << name;
    } else {
      ++failed;
      EXPECT_THAT(code, AnyOf(grpc::StatusCode::UNAVAILABLE,
                              grpc::StatusCode::DEADLINE_EXCEEDED))
          << name << ": " << outcome.message;
    }
  }
  EXPECT_GT(acknowledged, 0);
  EXPECT_GT(failed, 0) << "the crash was not noticed: the test proves nothing";
  // Nothing by halves: each stored server has exactly its one audit row.
  EXPECT_EQ(Count(server.conninfo(),
                  "SELECT count(*) FROM servers WHERE name LIKE 'load-%'"),
            Count(server.conninfo(),
                  "SELECT count(*) FROM audit_log WHERE action = 'register' "
                  "AND decision = 'ALLOW' AND server LIKE '%:load-%'"));
}

// A registry with two database connections and the row of its server
// "contended" locked by another session: registrations of that name wait
// on it, each holding one of the plugin's connections.
class LockedRowE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RegistryServer>(/*rest=*/false,
                                               /*max_connections=*/2);
    ASSERT_TRUE(server_->ok()) << server_->error();
    stub_ = v1::McpRegistry::NewStub(InsecureChannel(server_->address()));
    ASSERT_EQ(Register(*stub_, token(), "contended", absl::Seconds(10)).code,
              grpc::StatusCode::OK);
    holder_ = std::make_unique<pqxx::connection>(server_->conninfo());
    lock_ = std::make_unique<pqxx::work>(*holder_);
    lock_->exec("SELECT id FROM servers WHERE name = 'contended' FOR UPDATE");
  }
  const std::string& token() const { return server_->admin_token(); }
  int64_t WaitingForLocks() const {
    return Count(server_->conninfo(),
                 "SELECT count(*) FROM pg_stat_activity "
                 "WHERE wait_event_type = 'Lock'");
  }

  // Destroyed in reverse: the lock ends before the registry stops.
  std::unique_ptr<RegistryServer> server_;
  std::unique_ptr<v1::McpRegistry::Stub> stub_;
  std::unique_ptr<pqxx::connection> holder_;
  std::unique_ptr<pqxx::work> lock_;
};

// Each waiting registration holds one of the plugin's two connections; the
// rest wait for one.
TEST_F(LockedRowE2eTest,
       ExhaustedPoolTimesOutCallersAndGetsItsConnectionsBack) {
  v1::McpRegistry::Stub* stub = stub_.get();
  const std::string& token = this->token();
  std::vector<std::thread> callers;
  std::vector<Outcome> outcomes(4);
  for (int i = 0; i < 4; ++i) {
    callers.emplace_back([&, i] {
      outcomes[i] =
          Register(*stub, token, "contended", absl::Milliseconds(800));
    });
  }
  for (auto& c : callers) c.join();
  for (const Outcome& o : outcomes) {
    EXPECT_EQ(o.code, grpc::StatusCode::DEADLINE_EXCEEDED);
  }

  // The row is still locked, yet other work proceeds: the abandoned calls
  // gave their connections back.
  EXPECT_EQ(Register(*stub, token, "other-name", absl::Seconds(10)).code,
            grpc::StatusCode::OK);
  lock_->commit();
  EXPECT_EQ(Register(*stub, token, "contended", absl::Seconds(10)).code,
            grpc::StatusCode::OK);
}

// Clients that go away while their calls wait in the database give the
// connections back at once, not at their deadlines: the plugin has the
// statements cancelled. Here both of the plugin's connections are held by
// registrations waiting for a locked row, with a minute to go; their
// clients cancel, and a registration with a deadline of seconds succeeds.
TEST_F(LockedRowE2eTest, ClientsThatCancelReleaseTheirConnectionsAtOnce) {
  constexpr int kCallers = 2;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<grpc::StatusCode> codes(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    auto& ctx = contexts.emplace_back(std::make_unique<grpc::ClientContext>());
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    ctx->AddMetadata("authorization", "Bearer " + token());
    callers.emplace_back([&, i, ctx = ctx.get()] {
      v1::RegisterCustomServerResponse out;
      codes[i] = stub_->RegisterCustomServer(ctx, Request("contended"), &out)
                     .error_code();
    });
  }
  Eventually([&] { return WaitingForLocks() >= kCallers; });
  ASSERT_EQ(WaitingForLocks(), kCallers);
  for (auto& ctx : contexts) ctx->TryCancel();
  for (auto& c : callers) c.join();
  for (grpc::StatusCode code : codes) {
    EXPECT_EQ(code, grpc::StatusCode::CANCELLED);
  }

  // The row is still locked, and the first two calls' deadlines are far.
  EXPECT_EQ(Register(*stub_, token(), "other-name", absl::Seconds(5)).code,
            grpc::StatusCode::OK);
  EXPECT_EQ(WaitingForLocks(), 0);
}

grpc::Status Check(v1::McpRegistry::Stub& stub, const std::string& token,
                   const std::string& server, absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ctx.AddMetadata("authorization", "Bearer " + token);
  v1::CheckToolCallRequest r;
  r.set_project_key("ai-research");
  r.set_server(server);
  r.set_tool("read_file");
  v1::CheckToolCallResponse out;
  return stub.CheckToolCall(&ctx, r, &out);
}

// A check whose caller, grant and policy are cached is decided on the host's
// thread: it does not queue behind calls that wait for the database.
TEST(FaultE2eTest, ACachedCheckIsAnsweredWhileTheOnlyWorkerIsBusy) {
  RegistryServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  const std::string config = WriteTempFile(
      ".json",
      absl::StrCat(R"({"pluginConfig": {"workerThreads": 1, "database": )",
                   R"({"conninfo": ")", server.conninfo(),
                   R"("}, "storageRoot": ")", server.home(), R"(/storage"}})"));
  HostProcess one_worker(HostBinary(),
                         {"--plugin", PluginPath(), "--config", config,
                          "--grpc_listen", "127.0.0.1:0"});
  auto address = one_worker.WaitForAddress(absl::Seconds(60));
  ASSERT_TRUE(address.has_value()) << one_worker.Stderr();
  auto stub = v1::McpRegistry::NewStub(InsecureChannel(*address));
  const std::string& token = server.admin_token();
  ASSERT_EQ(Register(*stub, token, "contended", absl::Seconds(10)).code,
            grpc::StatusCode::OK);
  // The first checks load the caches (on the worker).
  for (int i = 0; i < 3; ++i) {
    grpc::Status warm = Check(*stub, token, "contended", absl::Seconds(10));
    ASSERT_TRUE(warm.ok()) << warm.error_message();
    absl::SleepFor(absl::Milliseconds(100));
  }

  // A registration of the same name waits for the row the test holds, and
  // with it the host's only worker.
  pqxx::connection holder(server.conninfo());
  pqxx::work lock(holder);
  lock.exec("SELECT id FROM servers WHERE name = 'contended' FOR UPDATE");
  Outcome blocked;
  std::thread registering([&] {
    blocked = Register(*stub, token, "contended", absl::Seconds(20));
  });
  Eventually(
      [&] {
        return Count(server.conninfo(),
                     "SELECT count(*) FROM pg_stat_activity "
                     "WHERE wait_event_type = 'Lock'") > 0;
      },
      absl::Seconds(10));

  grpc::Status cached = Check(*stub, token, "contended", absl::Seconds(5));
  EXPECT_TRUE(cached.ok()) << cached.error_code() << " "
                           << cached.error_message();
  // Anything needing a worker waits meanwhile.
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
  ctx.AddMetadata("authorization", "Bearer " + token);
  v1::GetServerRequest get;
  get.set_project_key("ai-research");
  get.set_name("contended");
  v1::Server got;
  EXPECT_EQ(stub->GetServer(&ctx, get, &got).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);

  lock.commit();
  registering.join();
  EXPECT_EQ(blocked.code, grpc::StatusCode::OK) << blocked.message;
  one_worker.Signal(SIGTERM);
  EXPECT_EQ(one_worker.Wait(absl::Seconds(20)).exit_code, 0);
}

TEST(FaultE2eTest, TwoHostsRacingTheSameRegistrationsYieldOneRecordEach) {
  RegistryServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  const std::string config = WriteTempFile(
      ".json", absl::StrCat(R"({"pluginConfig": {"database": {"conninfo": ")",
                            server.conninfo(), R"("}, "storageRoot": ")",
                            server.home(), R"(/storage"}})"));
  HostProcess second(HostBinary(), {"--plugin", PluginPath(), "--config",
                                    config, "--grpc_listen", "127.0.0.1:0"});
  auto address = second.WaitForAddress(absl::Seconds(60));
  ASSERT_TRUE(address.has_value()) << second.Stderr();
  std::shared_ptr<v1::McpRegistry::Stub> stubs[] = {
      v1::McpRegistry::NewStub(InsecureChannel(server.address())),
      v1::McpRegistry::NewStub(InsecureChannel(*address))};

  constexpr int kNames = 5;
  std::atomic<int> created[kNames] = {};
  std::atomic<int> failures{0};
  std::mutex mu;
  std::vector<std::string> why;
  std::vector<std::thread> racers;
  for (int t = 0; t < 12; ++t) {
    racers.emplace_back([&, t] {
      for (int k = 0; k < kNames; ++k) {
        const int n = (k + t) % kNames;
        Outcome o = Register(*stubs[t % 2], server.admin_token(),
                             absl::StrCat("raced-", n), absl::Seconds(20));
        if (o.code != grpc::StatusCode::OK) {
          ++failures;
          std::lock_guard<std::mutex> lock(mu);
          why.push_back(o.message);
        }
        if (o.created) ++created[n];
      }
    });
  }
  for (auto& r : racers) r.join();
  EXPECT_EQ(failures.load(), 0) << (why.empty() ? "" : why.front());
  for (int n = 0; n < kNames; ++n) EXPECT_EQ(created[n].load(), 1) << n;
  EXPECT_EQ(Count(server.conninfo(),
                  "SELECT count(*) FROM servers WHERE name LIKE 'raced-%'"),
            kNames);
  EXPECT_EQ(Count(server.conninfo(),
                  "SELECT count(*) FROM audit_log WHERE action = 'register' "
                  "AND server LIKE '%:raced-%'"),
            kNames);
  second.Signal(SIGTERM);
  EXPECT_EQ(second.Wait(absl::Seconds(20)).exit_code, 0);
}

}  // namespace
}  // namespace mcpreg::testing
