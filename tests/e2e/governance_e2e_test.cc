// Governance as agents, gateways and admins meet it: tool policies, per-call
// checks, filtering, the audit trail and client configurations, through
// mcpreg-host over gRPC — and a second host on the same database that must
// see policy changes made through the first.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <functional>
#include <pqxx/pqxx>
#include <set>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mcpreg/v1/admin.grpc.pb.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "tests/support/host_process.h"
#include "tests/support/raw_grpc.h"
#include "tests/support/registry_server.h"
#include "tests/support/shared_registry_test.h"

namespace mcpreg::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kServer[] = "pypi:ai-pypi-local:mcp-server";

class GovernanceE2eTest : public SharedRegistryTest<GovernanceE2eTest> {
 protected:
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(20));
    ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->AddMetadata("jfrog-project-key", "ai-research");
    return ctx;
  }
  static std::unique_ptr<v1::McpRegistry::Stub> Registry(
      std::shared_ptr<grpc::Channel> channel = nullptr) {
    return v1::McpRegistry::NewStub(channel ? channel : *channel_);
  }
  static const std::string& Admin() { return server_->admin_token(); }

  // Registers the brief's PyPI example once (idempotent).
  static void EnsureRegistered() {
    v1::RegisterCustomServerRequest r;
    r.set_project_key("ai-research");
    r.mutable_repo_artifact_info()->set_repo_key("ai-pypi-local");
    r.mutable_repo_artifact_info()->set_repo_path(
        "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz");
    r.mutable_mcp_server_info()->set_description("Example");
    r.mutable_mcp_server_info()->set_version("1.0.0");
    auto* env = r.mutable_mcp_server_info()->add_environment_variables();
    env->set_name("API_TOKEN");
    env->set_is_secret(true);
    env->set_is_required(true);
    auto* arg = r.mutable_mcp_server_info()->add_runtime_arguments();
    arg->set_name("--port");
    arg->set_type("named");
    arg->set_format("number");
    arg->set_default_value("8080");
    v1::RegisterCustomServerResponse out;
    grpc::Status s =
        Registry()->RegisterCustomServer(Ctx(Admin()).get(), r, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  static grpc::Status SetPolicy(
      v1::ToolPolicy::Mode mode,
      std::vector<std::pair<std::string, bool>> entries,
      const std::string& token = "") {
    v1::SetToolPolicyRequest r;
    r.mutable_policy()->set_server(kServer);
    r.mutable_policy()->set_mode(mode);
    for (const auto& [pattern, regex] : entries) {
      auto* e = r.mutable_policy()->add_entries();
      e->set_pattern(pattern);
      e->set_is_regex(regex);
    }
    v1::ToolPolicy out;
    return Registry()->SetToolPolicy(Ctx(token.empty() ? Admin() : token).get(),
                                     r, &out);
  }
  static v1::CheckToolCallResponse Check(
      const std::string& tool, std::shared_ptr<grpc::Channel> channel = nullptr,
      grpc::Status* status = nullptr, const std::string& token = "") {
    v1::CheckToolCallRequest r;
    r.set_server(kServer);
    r.set_tool(tool);
    v1::CheckToolCallResponse out;
    grpc::Status s = Registry(channel)->CheckToolCall(
        Ctx(token.empty() ? Admin() : token).get(), r, &out);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return out;
  }
  static std::string TokenFor(
      const std::string& principal,
      std::vector<std::pair<std::string, std::string>> grants) {
    auto admin = v1::McpRegistryAdmin::NewStub(*channel_);
    v1::CreateTokenRequest create;
    create.set_principal(principal);
    v1::CreateTokenResponse created;
    EXPECT_TRUE(admin->CreateToken(Ctx(Admin()).get(), create, &created).ok());
    for (const auto& [permission, resource] : grants) {
      v1::GrantPermissionRequest g;
      g.mutable_grant()->set_principal(principal);
      g.mutable_grant()->set_permission(permission);
      g.mutable_grant()->set_resource(resource);
      v1::GrantPermissionResponse ignored;
      EXPECT_TRUE(admin->GrantPermission(Ctx(Admin()).get(), g, &ignored).ok());
    }
    return created.token();
  }

  // Unregisters kServer as the admin.
  static grpc::Status Unregister() {
    v1::UnregisterCustomServerRequest un;
    un.set_name(kServer);
    v1::UnregisterCustomServerResponse gone;
    return Registry()->UnregisterCustomServer(Ctx(Admin()).get(), un, &gone);
  }

  // A second host on the same database, no bootstrap or seeding.
  static std::unique_ptr<HostProcess> StartReplica() {
    const std::string config = WriteTempFile(
        ".json", absl::StrCat(R"({"pluginConfig": {"database": {"conninfo": ")",
                              server_->conninfo(), R"("}, "storageRoot": ")",
                              server_->home(), R"(/storage"}})"));
    return std::make_unique<HostProcess>(
        HostBinary(),
        std::vector<std::string>{"--plugin", PluginPath(), "--config", config,
                                 "--grpc_listen", "127.0.0.1:0"});
  }
  // Polls `check` on the replica until it returns true, for up to 10 s.
  static bool Eventually(const std::function<bool()>& check) {
    const absl::Time until = absl::Now() + absl::Seconds(10);
    while (absl::Now() < until) {
      if (check()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }
};

TEST_F(GovernanceE2eTest, PoliciesDecideChecksAndFilters) {
  EnsureRegistered();
  // Zero trust: no policy, no tool.
  v1::CheckToolCallResponse none = Check("read_file");
  EXPECT_FALSE(none.allowed());
  EXPECT_EQ(none.entry_index(), -1);
  EXPECT_THAT(none.reason(), HasSubstr("no tool policy"));

  // A bad pattern is refused at set time, naming its index; nothing changes.
  grpc::Status bad = SetPolicy(v1::ToolPolicy::ALLOW_LIST,
                               {{"read_file", false}, {"search_(", true}});
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("policy.entries[1].pattern"));
  v1::GetToolPolicyRequest get;
  get.set_server(kServer);
  v1::ToolPolicy got;
  EXPECT_EQ(
      Registry()->GetToolPolicy(Ctx(Admin()).get(), get, &got).error_code(),
      grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(SetPolicy(v1::ToolPolicy::ALLOW_LIST,
                        {{"read_file", false}, {"search_.*", true}})
                  .ok());
  v1::CheckToolCallResponse read = Check("read_file");
  EXPECT_TRUE(read.allowed());
  EXPECT_EQ(read.entry_index(), 0);
  EXPECT_EQ(read.entry().pattern(), "read_file");
  EXPECT_EQ(Check("search_docs").entry_index(), 1);
  EXPECT_FALSE(Check("search").allowed());  // anchored: the whole name
  EXPECT_FALSE(Check("xsearch_docs").allowed());
  EXPECT_FALSE(Check("write_file").allowed());
  // A NUL would be judged whole but stored cut short: refused.
  grpc::Status nul;
  Check(std::string("read_file\0rm", 12), nullptr, &nul);
  EXPECT_EQ(nul.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::FilterToolsRequest filter;
  filter.set_server(kServer);
  for (const char* t : {"read_file", "write_file", "search_x", "search"}) {
    filter.add_tools(t);
  }
  v1::FilterToolsResponse filtered;
  ASSERT_TRUE(
      Registry()->FilterTools(Ctx(Admin()).get(), filter, &filtered).ok());
  EXPECT_THAT(filtered.allowed_tools(), ElementsAre("read_file", "search_x"));
  EXPECT_THAT(filtered.denied_tools(), ElementsAre("write_file", "search"));

  ASSERT_TRUE(SetPolicy(v1::ToolPolicy::DENY_LIST, {{"delete_.*", true}}).ok());
  EXPECT_FALSE(Check("delete_all").allowed());
  EXPECT_TRUE(Check("read_file").allowed());

  v1::GetServerRequest gs;
  gs.set_name(kServer);
  v1::Server server;
  ASSERT_TRUE(Registry()->GetServer(Ctx(Admin()).get(), gs, &server).ok());
  EXPECT_EQ(server.tool_policy().mode(), v1::ToolPolicy::DENY_LIST);
}

TEST_F(GovernanceE2eTest, PermissionsAreCheckedAndDenialsAudited) {
  EnsureRegistered();
  const std::string nobody = TokenFor("nobody", {});
  const std::string reader = TokenFor("reader", {{"READ", "ai-pypi-local"}});
  grpc::Status s;
  // A caller who may not read the server is told what a caller asking for
  // a server that does not exist is told (no existence oracle); the
  // refusal is still audited, with its reason.
  Check("read_file", nullptr, &s, nobody);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("that you may read"));
  EXPECT_THAT(s.error_message(), Not(HasSubstr("READ")));
  Check("read_file", nullptr, &s, reader);
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = SetPolicy(v1::ToolPolicy::ALLOW_ALL, {}, reader);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("ALLOW"));

  v1::ListAuditEventsRequest list;
  v1::ListAuditEventsResponse events;
  EXPECT_EQ(Registry()
                ->ListAuditEvents(Ctx(reader).get(), list, &events)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::VerifyAuditLogResponse verdict;
  EXPECT_EQ(Registry()
                ->VerifyAuditLog(Ctx(reader).get(), v1::VerifyAuditLogRequest(),
                                 &verdict)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  list.set_actor("nobody");
  list.set_decision("DENY");
  ASSERT_TRUE(
      Registry()->ListAuditEvents(Ctx(Admin()).get(), list, &events).ok());
  ASSERT_FALSE(events.events().empty());
  EXPECT_EQ(events.events(0).action(), "tool.check");
  EXPECT_EQ(events.events(0).server(), kServer);

  v1::ListAuditEventsRequest checks;
  checks.set_actor("reader");
  checks.set_action("tool.check");
  ASSERT_TRUE(
      Registry()->ListAuditEvents(Ctx(Admin()).get(), checks, &events).ok());
  ASSERT_EQ(events.events_size(), 1);
  EXPECT_EQ(events.events(0).tool(), "read_file");
  EXPECT_THAT(events.events(0).request_id(),
              ::testing::MatchesRegex("[0-9a-f]{16}"));  // made up: none sent
  // Every call without an id of its own gets a different one.
  list.clear_actor();
  list.clear_decision();
  list.set_page_size(50);
  ASSERT_TRUE(
      Registry()->ListAuditEvents(Ctx(Admin()).get(), list, &events).ok());
  std::set<std::string> ids;
  for (const auto& e : events.events()) ids.insert(e.request_id());
  EXPECT_EQ(ids.size(), static_cast<size_t>(events.events_size()));

  ASSERT_TRUE(Registry()
                  ->VerifyAuditLog(Ctx(Admin()).get(),
                                   v1::VerifyAuditLogRequest(), &verdict)
                  .ok());
  EXPECT_TRUE(verdict.intact()) << verdict.problem();
  EXPECT_GT(verdict.rows_checked(), 5);
}

TEST_F(GovernanceE2eTest, ClientConfigsPinTheVersionAndHoldNoValues) {
  EnsureRegistered();
  for (const char* client : {"cursor", "vscode", "claude-code"}) {
    v1::GetClientConfigRequest r;
    r.set_server("mcp-server");
    r.set_client(client);
    v1::ClientConfig config;
    grpc::Status s =
        Registry()->GetClientConfig(Ctx(Admin()).get(), r, &config);
    ASSERT_TRUE(s.ok()) << client << ": " << s.error_message();
    // The guard runs the pinned version; the registry's address is in the
    // entry, the token and the server's own variables are placeholders.
    EXPECT_THAT(config.config_json(), HasSubstr("\"mcpreg\"")) << client;
    EXPECT_THAT(config.config_json(), HasSubstr("\"guard\""));
    EXPECT_THAT(config.config_json(),
                HasSubstr("\"pypi:ai-pypi-local:mcp-server\""));
    EXPECT_THAT(config.config_json(), HasSubstr("\"--version\""));
    EXPECT_THAT(config.config_json(), HasSubstr("\"MCPREG_ADDR\""));
    EXPECT_THAT(config.config_json(), HasSubstr("MCPREG_TOKEN"));
    EXPECT_THAT(config.config_json(), HasSubstr("API_TOKEN"));
    EXPECT_THAT(config.config_json(),
                ::testing::Not(HasSubstr(server_->admin_token())));
    EXPECT_EQ(config.version(), "1.0.0");
  }
  // The direct npx/uvx entry only where a package URL is configured: the
  // test registry has none, so it says why.
  v1::GetClientConfigRequest direct;
  direct.set_server("mcp-server");
  direct.set_client("cursor");
  direct.set_launcher("direct");
  v1::ClientConfig none;
  grpc::Status refused =
      Registry()->GetClientConfig(Ctx(Admin()).get(), direct, &none);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("packageBaseUrl"));
  v1::GetClientConfigRequest vscode;
  vscode.set_server("mcp-server");
  vscode.set_client("vscode");
  v1::ClientConfig config;
  ASSERT_TRUE(
      Registry()->GetClientConfig(Ctx(Admin()).get(), vscode, &config).ok());
  EXPECT_THAT(config.config_json(), HasSubstr("${input:API_TOKEN}"));
  EXPECT_THAT(config.config_json(), HasSubstr("\"password\": true"));
  vscode.set_client("claude-code");
  ASSERT_TRUE(
      Registry()->GetClientConfig(Ctx(Admin()).get(), vscode, &config).ok());
  EXPECT_THAT(config.command_line(), HasSubstr("claude mcp add"));
  EXPECT_THAT(config.command_line(), HasSubstr("API_TOKEN=${API_TOKEN}"));
  EXPECT_THAT(config.command_line(), HasSubstr("MCPREG_TOKEN=${MCPREG_TOKEN}"));
  EXPECT_THAT(config.command_line(), HasSubstr("-- mcpreg 'guard'"));
  vscode.set_client("emacs");
  EXPECT_EQ(Registry()
                ->GetClientConfig(Ctx(Admin()).get(), vscode, &config)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GovernanceE2eTest, APolicyChangeReachesTheOtherReplica) {
  EnsureRegistered();
  ASSERT_TRUE(
      SetPolicy(v1::ToolPolicy::ALLOW_LIST, {{"read_file", false}}).ok());
  std::unique_ptr<HostProcess> replica_process = StartReplica();
  HostProcess& replica = *replica_process;
  auto address = replica.WaitForAddress(absl::Seconds(60));
  ASSERT_TRUE(address.has_value()) << replica.Stderr();
  auto b = InsecureChannel(*address);
  // Warm the replica's cache with the current policy.
  EXPECT_FALSE(Check("write_file", b).allowed());
  EXPECT_FALSE(Check("write_file", b).allowed());

  ASSERT_TRUE(SetPolicy(v1::ToolPolicy::ALLOW_ALL, {}).ok());
  bool allowed = false;
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (!allowed && absl::Now() < until) {
    allowed = Check("write_file", b).allowed();
    if (!allowed) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(allowed) << "the replica kept serving the old policy";

  // Unregistering drops the policy everywhere; a re-registration starts
  // from zero trust again.
  ASSERT_TRUE(Unregister().ok());
  EnsureRegistered();
  bool denied = false;
  const absl::Time until2 = absl::Now() + absl::Seconds(10);
  while (!denied && absl::Now() < until2) {
    denied = !Check("write_file", b).allowed();
    if (!denied) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(denied);
  EXPECT_FALSE(Check("write_file").allowed());
  replica.Signal(SIGTERM);
  EXPECT_EQ(replica.Wait(absl::Seconds(20)).exit_code, 0);
}

// Zero stale allows: once a policy change is acknowledged on one replica,
// the other's next check obeys it — even before (here: without) its NOTIFY
// listener hearing of the change, because the check's audit row is written
// only while the policy it was decided on is in force.
TEST_F(GovernanceE2eTest, AnAcknowledgedPolicyHoldsOnTheOtherReplicaAtOnce) {
  EnsureRegistered();
  ASSERT_TRUE(SetPolicy(v1::ToolPolicy::ALLOW_ALL, {}).ok());
  std::unique_ptr<HostProcess> replica = StartReplica();
  auto address = replica->WaitForAddress(absl::Seconds(60));
  ASSERT_TRUE(address.has_value()) << replica->Stderr();
  auto b = InsecureChannel(*address);
  for (int i = 0; i < 2; ++i) {  // the second from the replica's cache
    ASSERT_TRUE(Check("write_file", b).allowed());
  }
  // Freeze every policy listener's backend (the replica's may still be
  // connecting): no replica hears of changes.
  std::vector<pid_t> listeners;
  ASSERT_TRUE(Eventually([&] {
    listeners.clear();
    pqxx::connection c(server_->conninfo());
    pqxx::nontransaction q(c);
    for (const pqxx::row& r :
         q.exec("SELECT pid FROM pg_stat_activity WHERE application_name = "
                "'mcpreg listener mcpreg_policy'")) {
      listeners.push_back(r[0].as<pid_t>());
    }
    return listeners.size() == 2;
  }));
  ASSERT_EQ(listeners.size(), 2u);
  for (pid_t pid : listeners) ASSERT_EQ(kill(pid, SIGSTOP), 0);
  absl::Cleanup resume = [&listeners] {
    for (pid_t pid : listeners) kill(pid, SIGCONT);
  };

  ASSERT_TRUE(
      SetPolicy(v1::ToolPolicy::ALLOW_LIST, {{"read_file", false}}).ok());
  grpc::Status status;
  v1::CheckToolCallResponse after = Check("write_file", b, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(after.allowed()) << "a stale allow on the other replica";
  EXPECT_TRUE(Check("read_file", b).allowed());
  EXPECT_FALSE(Check("write_file", b).allowed());  // and it stays so

  // Registered anew on A (same name and repository, allow-all): B's
  // cached entry is of a server that no longer exists, and B decides on
  // the new one.
  ASSERT_TRUE(Unregister().ok());
  EnsureRegistered();
  ASSERT_TRUE(SetPolicy(v1::ToolPolicy::ALLOW_ALL, {}).ok());
  after = Check("write_file", b, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(after.allowed()) << after.reason();

  // Unregistered on A: B's next check finds no server, not its cache.
  ASSERT_TRUE(Unregister().ok());
  Check("read_file", b, &status);
  EXPECT_EQ(status.error_code(), grpc::NOT_FOUND) << status.error_message();
  std::move(resume).Invoke();
  replica->Signal(SIGTERM);
  EXPECT_EQ(replica->Wait(absl::Seconds(20)).exit_code, 0);
}

TEST_F(GovernanceE2eTest, RevocationsReachTheOtherReplicasAccessCache) {
  EnsureRegistered();
  ASSERT_TRUE(SetPolicy(v1::ToolPolicy::ALLOW_ALL, {}).ok());
  const std::string agent = TokenFor("agent", {{"READ", "ai-pypi-local"}});
  std::unique_ptr<HostProcess> replica = StartReplica();
  auto address = replica->WaitForAddress(absl::Seconds(60));
  ASSERT_TRUE(address.has_value()) << replica->Stderr();
  auto b = InsecureChannel(*address);
  grpc::Status s;
  // Warm the replica's caches with the agent's token and grant.
  Check("read_file", b, &s, agent);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Check("read_file", b, &s, agent);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Revoking the grant on the first host denies on the second.
  auto admin = v1::McpRegistryAdmin::NewStub(*channel_);
  v1::RevokePermissionRequest revoke;
  revoke.mutable_grant()->set_principal("agent");
  revoke.mutable_grant()->set_permission("READ");
  revoke.mutable_grant()->set_resource("ai-pypi-local");
  v1::RevokePermissionResponse revoked;
  ASSERT_TRUE(
      admin->RevokePermission(Ctx(Admin()).get(), revoke, &revoked).ok());
  EXPECT_TRUE(Eventually([&] {
    Check("read_file", b, &s, agent);
    return s.error_code() == grpc::StatusCode::NOT_FOUND;  // may not read
  }));

  // Revoking the token locks it out there too.
  v1::ListTokensRequest list;
  list.set_principal("agent");
  v1::ListTokensResponse tokens;
  ASSERT_TRUE(admin->ListTokens(Ctx(Admin()).get(), list, &tokens).ok());
  ASSERT_EQ(tokens.tokens_size(), 1);
  v1::GrantPermissionRequest regrant;
  *regrant.mutable_grant() = revoke.grant();
  v1::GrantPermissionResponse granted;
  ASSERT_TRUE(
      admin->GrantPermission(Ctx(Admin()).get(), regrant, &granted).ok());
  EXPECT_TRUE(Eventually([&] {
    Check("read_file", b, &s, agent);
    return s.ok();
  }));
  v1::RevokeTokenRequest revoke_token;
  revoke_token.set_id(tokens.tokens(0).id());
  v1::RevokeTokenResponse revoked_token;
  ASSERT_TRUE(
      admin->RevokeToken(Ctx(Admin()).get(), revoke_token, &revoked_token)
          .ok());
  EXPECT_TRUE(Eventually([&] {
    Check("read_file", b, &s, agent);
    return s.error_code() == grpc::StatusCode::UNAUTHENTICATED;
  }));
  // And on the first host at once (read-your-writes).
  Check("read_file", nullptr, &s, agent);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  replica->Signal(SIGTERM);
  EXPECT_EQ(replica->Wait(absl::Seconds(20)).exit_code, 0);
}

TEST_F(GovernanceE2eTest, ListServersSearches) {
  EnsureRegistered();
  v1::ListServersRequest r;
  r.set_search("MCP-SERV");
  v1::ListServersResponse out;
  ASSERT_TRUE(Registry()->ListServers(Ctx(Admin()).get(), r, &out).ok());
  ASSERT_EQ(out.servers_size(), 1);
  r.set_search("no-such-thing");
  ASSERT_TRUE(Registry()->ListServers(Ctx(Admin()).get(), r, &out).ok());
  EXPECT_EQ(out.servers_size(), 0);
}

}  // namespace
}  // namespace mcpreg::testing
