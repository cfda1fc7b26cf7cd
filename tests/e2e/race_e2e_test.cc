// Read-then-write races, raced by real clients: concurrent unregisters over
// HTTP, and over gRPC policy changes and registrations racing an unregister,
// revokes of one token, and grants and revokes of one permission. Each
// change must happen once, be reported once and be audited once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "mcpreg/v1/admin.grpc.pb.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "tests/support/shared_registry_test.h"

namespace mcpreg::testing {
namespace {

constexpr char kServer[] = "npm:ai-npm-local:simple-mcp";

class RaceE2eTest : public SharedRegistryTest<RaceE2eTest, /*rest=*/true> {
 protected:
  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    ctx->AddMetadata("authorization", "Bearer " + server_->admin_token());
    ctx->AddMetadata("jfrog-project-key", "ai-research");
    return ctx;
  }
  static std::unique_ptr<v1::McpRegistry::Stub> Registry() {
    return v1::McpRegistry::NewStub(*channel_);
  }
  static std::unique_ptr<v1::McpRegistryAdmin::Stub> Admin() {
    return v1::McpRegistryAdmin::NewStub(*channel_);
  }
  static int64_t Count(const std::string& sql) {
    pqxx::connection c(server_->conninfo());
    pqxx::nontransaction q(c);
    return q.exec(sql)[0][0].as<int64_t>();
  }
  // The platform page's npm example, from examples/.
  static v1::RegisterCustomServerRequest NpmExample() {
    std::ifstream in(
        absl::StrCat(MCPREG_TEST_SOURCE_DIR, "/examples/register-npm.json"));
    std::stringstream body;
    body << in.rdbuf();
    v1::RegisterCustomServerRequest r;
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(body.str(), &r).ok());
    return r;
  }
  static grpc::Status RegisterNpmExample(bool* created = nullptr) {
    v1::RegisterCustomServerResponse out;
    grpc::Status s =
        Registry()->RegisterCustomServer(Ctx().get(), NpmExample(), &out);
    if (created != nullptr) *created = out.created();
    return s;
  }
  static grpc::Status Unregister(v1::UnregisterCustomServerResponse* out) {
    v1::UnregisterCustomServerRequest r;
    r.set_name("simple-mcp");
    return Registry()->UnregisterCustomServer(Ctx().get(), r, out);
  }
  static grpc::Status SetAllowAll() {
    v1::SetToolPolicyRequest r;
    r.mutable_policy()->set_server("simple-mcp");
    r.mutable_policy()->set_mode(v1::ToolPolicy::ALLOW_ALL);
    v1::ToolPolicy out;
    return Registry()->SetToolPolicy(Ctx().get(), r, &out);
  }
  static std::string AuditCount(const std::string& action) {
    return absl::StrCat("SELECT count(*) FROM audit_log WHERE action = '",
                        action, "'");
  }
};

// Starts `n` racers at once and collects their gRPC codes (or HTTP
// statuses) by count.
std::map<int, int> Race(int n, const std::function<int(int)>& racer) {
  absl::Notification go;
  std::vector<int> results(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      go.WaitForNotification();
      results[i] = racer(i);
    });
  }
  go.Notify();
  for (auto& t : threads) t.join();
  std::map<int, int> by_result;
  for (int r : results) ++by_result[r];
  return by_result;
}

TEST_F(RaceE2eTest, OfSixtyFourUnregistersOverHttpExactlyOneSucceeds) {
  ASSERT_TRUE(RegisterNpmExample().ok());
  const int64_t audited_before = Count(AuditCount("unregister"));
  const std::vector<std::string> host_port =
      absl::StrSplit(server_->rest_address(), ':');
  const httplib::Headers headers = {
      {"Authorization", "Bearer " + server_->admin_token()},
      {"JFrog-Project-Key", "ai-research"}};
  std::map<int, int> statuses = Race(64, [&](int) {
    httplib::Client client(host_port[0], std::stoi(host_port[1]));
    client.set_read_timeout(20, 0);
    auto res = client.Delete(
        "/api/v1/ml/registry/mcp/unregister?name=simple-mcp", headers);
    return res ? res->status : 0;
  });
  EXPECT_EQ(statuses[200], 1);
  EXPECT_EQ(statuses[404], 63);
  EXPECT_EQ(Count(AuditCount("unregister")) - audited_before, 1);
}

// A policy set racing an unregister either lands before it (and goes with
// the server) or is refused; none survives into the name registered again,
// which starts with no policy at all (zero trust).
TEST_F(RaceE2eTest, PolicyChangesRacingUnregisterNeverOutliveIt) {
  for (int round = 0; round < 8; ++round) {
    ASSERT_TRUE(RegisterNpmExample().ok());
    const int64_t audited_before = Count(AuditCount("policy.set"));
    std::atomic<int> set_ok{0};
    std::map<int, int> codes = Race(9, [&](int i) {
      if (i == 0) {
        v1::UnregisterCustomServerResponse out;
        return static_cast<int>(Unregister(&out).error_code()) + 100;
      }
      grpc::Status s = SetAllowAll();
      if (s.ok()) ++set_ok;
      return static_cast<int>(s.error_code());
    });
    EXPECT_EQ(codes[100 + grpc::OK], 1);  // the unregister
    EXPECT_EQ(codes[grpc::OK] + codes[grpc::NOT_FOUND], 8)
        << "policy sets end OK or NOT_FOUND, nothing else";
    EXPECT_EQ(Count(AuditCount("policy.set")) - audited_before, set_ok.load());
    EXPECT_EQ(Count("SELECT count(*) FROM tool_policies p LEFT JOIN servers "
                    "s ON s.id = p.server_id WHERE s.id IS NULL"),
              0);

    bool created = false;
    ASSERT_TRUE(RegisterNpmExample(&created).ok());
    EXPECT_TRUE(created);
    v1::CheckToolCallRequest check;
    check.set_server("simple-mcp");
    check.set_tool("echo");
    v1::CheckToolCallResponse decision;
    ASSERT_TRUE(Registry()->CheckToolCall(Ctx().get(), check, &decision).ok());
    EXPECT_FALSE(decision.allowed())
        << "round " << round << ": " << decision.reason();
    v1::UnregisterCustomServerResponse out;
    ASSERT_TRUE(Unregister(&out).ok());
  }
}

// An acknowledged unregister holds on its own replica at once, not when the
// replica's NOTIFY listener hears of it: with that listener's backend
// stopped, a check answered from the policy cache must not allow a tool of
// the removed server.
TEST_F(RaceE2eTest, AnUnregisterHoldsOnItsReplicaBeforeTheNotification) {
  ASSERT_TRUE(RegisterNpmExample().ok());
  ASSERT_TRUE(SetAllowAll().ok());
  v1::CheckToolCallRequest check;
  check.set_server("simple-mcp");
  check.set_tool("echo");
  v1::CheckToolCallResponse decision;
  for (int i = 0; i < 2; ++i) {  // the second is answered from the cache
    ASSERT_TRUE(Registry()->CheckToolCall(Ctx().get(), check, &decision).ok());
    ASSERT_TRUE(decision.allowed());
  }
  const int64_t listener = Count(
      "SELECT pid FROM pg_stat_activity WHERE application_name = "
      "'mcpreg listener mcpreg_policy' LIMIT 1");
  ASSERT_GT(listener, 0);
  ASSERT_EQ(kill(static_cast<pid_t>(listener), SIGSTOP), 0);
  absl::Cleanup resume = [listener] {
    kill(static_cast<pid_t>(listener), SIGCONT);
  };
  v1::UnregisterCustomServerResponse removed;
  ASSERT_TRUE(Unregister(&removed).ok());
  grpc::Status after = Registry()->CheckToolCall(Ctx().get(), check, &decision);
  EXPECT_EQ(after.error_code(), grpc::NOT_FOUND)
      << "allowed=" << decision.allowed() << " " << after.error_message();
}

// A registration racing an unregister lands on one side of it: before (and
// is removed with the server) or after (and creates the server anew).
TEST_F(RaceE2eTest, RegistrationsRacingUnregisterLandOnOneSideOfIt) {
  for (int round = 0; round < 10; ++round) {
    ASSERT_TRUE(RegisterNpmExample().ok());
    v1::UnregisterCustomServerResponse removed;
    grpc::Status unregistered;
    bool created = false;
    std::map<int, int> codes = Race(2, [&](int i) {
      if (i == 0) {
        unregistered = Unregister(&removed);
        return static_cast<int>(unregistered.error_code());
      }
      return static_cast<int>(RegisterNpmExample(&created).error_code());
    });
    ASSERT_EQ(codes[grpc::OK], 2) << unregistered.error_message();
    const int64_t left =
        Count("SELECT count(*) FROM servers WHERE name = 'simple-mcp'");
    // Registered after the unregister: a new server. Before it: an
    // identical retry of the removed one, gone with it.
    EXPECT_EQ(left, created ? 1 : 0) << "round " << round;
    if (left == 1) {
      ASSERT_TRUE(Unregister(&removed).ok());
    }
  }
}

TEST_F(RaceE2eTest, OfConcurrentTokenRevokesExactlyOneSucceeds) {
  v1::CreateTokenRequest create;
  create.set_principal("racer");
  v1::CreateTokenResponse token;
  ASSERT_TRUE(Admin()->CreateToken(Ctx().get(), create, &token).ok());
  const int64_t audited_before = Count(AuditCount("token.revoke"));
  std::map<int, int> codes = Race(16, [&](int) {
    v1::RevokeTokenRequest r;
    r.set_id(token.info().id());
    v1::RevokeTokenResponse out;
    return static_cast<int>(
        Admin()->RevokeToken(Ctx().get(), r, &out).error_code());
  });
  EXPECT_EQ(codes[grpc::OK], 1);
  EXPECT_EQ(codes[grpc::FAILED_PRECONDITION], 15);
  EXPECT_EQ(Count(AuditCount("token.revoke")) - audited_before, 1);
}

TEST_F(RaceE2eTest, OfConcurrentGrantsAndRevokesEachHappensOnce) {
  v1::Grant grant;
  grant.set_principal("racer");
  grant.set_permission("READ");
  grant.set_resource("ai-npm-local");
  const int64_t granted_before = Count(AuditCount("grant"));
  std::atomic<int> created{0};
  std::map<int, int> codes = Race(16, [&](int) {
    v1::GrantPermissionRequest r;
    *r.mutable_grant() = grant;
    v1::GrantPermissionResponse out;
    grpc::Status s = Admin()->GrantPermission(Ctx().get(), r, &out);
    if (s.ok() && out.created()) ++created;
    return static_cast<int>(s.error_code());
  });
  EXPECT_EQ(codes[grpc::OK], 16);
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(Count(AuditCount("grant")) - granted_before, 1);

  const int64_t revoked_before = Count(AuditCount("revoke"));
  codes = Race(16, [&](int) {
    v1::RevokePermissionRequest r;
    *r.mutable_grant() = grant;
    v1::RevokePermissionResponse out;
    return static_cast<int>(
        Admin()->RevokePermission(Ctx().get(), r, &out).error_code());
  });
  EXPECT_EQ(codes[grpc::OK], 1);
  EXPECT_EQ(codes[grpc::NOT_FOUND], 15);
  EXPECT_EQ(Count(AuditCount("revoke")) - revoked_before, 1);
}

}  // namespace
}  // namespace mcpreg::testing
