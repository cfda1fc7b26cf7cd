// The registry as a user meets it: mcpreg-host with the real libmcpreg.so on
// a real PostgreSQL, bootstrapped and seeded with the quickstart data, called
// over a real gRPC channel with the generated stubs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "mcpreg/v1/admin.grpc.pb.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "tests/support/host_process.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/raw_grpc.h"
#include "tests/support/registry_server.h"
#include "tests/support/shared_registry_test.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kPypiPath[] =
    "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz";
constexpr char kNpmPath[] = "org/project/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz";

// The design brief's example body, parsed the way a REST gateway would.
v1::RegisterCustomServerRequest BriefExample(const std::string& repo,
                                             const std::string& path,
                                             const std::string& readme) {
  const std::string json = absl::StrCat(R"({
    "projectKey": "ai-research",
    "repoArtifactInfo": {"repoKey": ")",
                                        repo, R"(", "repoPath": ")", path,
                                        R"(", "readmePath": ")", readme, R"("},
    "mcpServerInfo": {
      "description": "Example MCP server", "version": "1.0.0",
      "environmentVariables": [
        {"name": "API_BASE_URL", "description": "Where the API lives",
         "format": "url", "isRequired": true, "isSecret": false},
        {"name": "API_TOKEN", "description": "API credential",
         "format": "string", "isRequired": true, "isSecret": true}],
      "runtimeArguments": [
        {"name": "--port", "description": "Port", "format": "number",
         "type": "named", "defaultValue": "8080"}]}})");
  v1::RegisterCustomServerRequest request;
  google::protobuf::util::JsonParseOptions strict;
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage(json, &request, strict).ok());
  return request;
}

class RegistryE2eTest : public SharedRegistryTest<RegistryE2eTest> {
 protected:
  void SetUp() override {
    SharedRegistryTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_THAT(server_->admin_token(), ::testing::StartsWith("mcpreg_"));
    struct stat st;
    ASSERT_EQ(stat(server_->admin_token_file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }

  static std::unique_ptr<grpc::ClientContext> Ctx(
      const std::string& token, const std::string& project = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(20));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    if (!project.empty()) ctx->AddMetadata("jfrog-project-key", project);
    return ctx;
  }
  static std::unique_ptr<v1::McpRegistry::Stub> Registry() {
    return v1::McpRegistry::NewStub(*channel_);
  }
  static std::unique_ptr<v1::McpRegistryAdmin::Stub> Admin() {
    return v1::McpRegistryAdmin::NewStub(*channel_);
  }
  // A token for `principal` holding the given grants.
  static std::string TokenFor(
      const std::string& principal,
      std::vector<std::pair<std::string, std::string>> grants) {
    v1::CreateTokenRequest create;
    create.set_principal(principal);
    v1::CreateTokenResponse created;
    EXPECT_TRUE(
        Admin()
            ->CreateToken(Ctx(server_->admin_token()).get(), create, &created)
            .ok());
    for (const auto& [permission, resource] : grants) {
      v1::GrantPermissionRequest grant;
      grant.mutable_grant()->set_principal(principal);
      grant.mutable_grant()->set_permission(permission);
      grant.mutable_grant()->set_resource(resource);
      v1::GrantPermissionResponse ignored;
      grpc::Status s = Admin()->GrantPermission(
          Ctx(server_->admin_token()).get(), grant, &ignored);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return created.token();
  }
  static int64_t Count(const std::string& sql) {
    pqxx::connection c(server_->conninfo());
    pqxx::nontransaction q(c);
    return q.exec(sql)[0][0].as<int64_t>();
  }
};

TEST_F(RegistryE2eTest, BriefExampleRegistersIdempotentlyAndUnregisters) {
  const std::string ci =
      TokenFor("ci-bot", {{"ALLOW", "ai-research"}, {"READ", "ai-pypi-local"}});
  auto request = BriefExample("ai-pypi-local", kPypiPath,
                              "org/project/mcp-server/1.0.0/README.md");
  v1::RegisterCustomServerResponse first;
  grpc::Status s =
      Registry()->RegisterCustomServer(Ctx(ci).get(), request, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(first.created());
  EXPECT_EQ(first.server().name(), "mcp-server");  // from PKG-INFO
  EXPECT_EQ(first.server().display_name(), "pypi:ai-pypi-local:mcp-server");
  EXPECT_EQ(first.version(), "1.0.0");
  EXPECT_EQ(first.server().created_by(), "ci-bot");
  ASSERT_EQ(first.server().versions_size(), 1);
  EXPECT_EQ(first.server().versions(0).artifact_sha256().size(), 64u);
  EXPECT_EQ(first.server().versions(0).environment_variables_size(), 2);

  v1::RegisterCustomServerResponse again;
  ASSERT_TRUE(
      Registry()->RegisterCustomServer(Ctx(ci).get(), request, &again).ok());
  EXPECT_FALSE(again.created());

  v1::GetServerRequest get;
  get.set_project_key("ai-research");
  get.set_name("pypi:ai-pypi-local:mcp-server");
  v1::Server server;
  ASSERT_TRUE(Registry()->GetServer(Ctx(ci).get(), get, &server).ok());
  EXPECT_THAT(server.versions(0).readme(), HasSubstr("# mcp-server"));

  // Unregister by display name, project from the header as REST sends it.
  v1::UnregisterCustomServerRequest unregister;
  unregister.set_name("pypi:ai-pypi-local:mcp-server");
  v1::UnregisterCustomServerResponse removed;
  s = Registry()->UnregisterCustomServer(Ctx(ci, "ai-research").get(),
                                         unregister, &removed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(removed.versions_removed(), 1u);
  struct stat st;
  EXPECT_EQ(
      stat(absl::StrCat(server_->home(), "/storage/ai-pypi-local/", kPypiPath)
               .c_str(),
           &st),
      0)
      << "the artifact stays in storage";
  s = Registry()->UnregisterCustomServer(Ctx(ci, "ai-research").get(),
                                         unregister, &removed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'register' "
                  "AND actor = 'ci-bot' AND decision = 'ALLOW'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = "
                  "'unregister' AND server = 'pypi:ai-pypi-local:mcp-server'"),
            1);
}

TEST_F(RegistryE2eTest,
       NpmExampleNeedsReadOnItsRepositoryAndDenialsAreAudited) {
  const std::string ci = TokenFor(
      "pypi-only", {{"ALLOW", "ai-research"}, {"READ", "ai-pypi-local"}});
  auto request = BriefExample("ai-npm-local", kNpmPath,
                              "org/project/simple-mcp/1.0.0/README.md");
  v1::RegisterCustomServerResponse response;
  grpc::Status s =
      Registry()->RegisterCustomServer(Ctx(ci).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(),
              HasSubstr("lacks READ on repository 'ai-npm-local'"));
  EXPECT_GE(Count("SELECT count(*) FROM audit_log WHERE actor = 'pypi-only' "
                  "AND decision = 'DENY'"),
            1);

  s = Registry()->RegisterCustomServer(Ctx(server_->admin_token()).get(),
                                       request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.server().display_name(), "npm:ai-npm-local:simple-mcp");

  // Discovery is filtered: the pypi-only caller does not see the npm server.
  v1::ListServersRequest list;
  list.set_project_key("ai-research");
  v1::ListServersResponse listed;
  ASSERT_TRUE(Registry()->ListServers(Ctx(ci).get(), list, &listed).ok());
  for (const auto& server : listed.servers()) {
    EXPECT_NE(server.repo_key(), "ai-npm-local");
  }
  ASSERT_TRUE(
      Registry()
          ->ListServers(Ctx(server_->admin_token()).get(), list, &listed)
          .ok());
  bool found = false;
  for (const auto& server : listed.servers()) {
    found = found || server.display_name() == "npm:ai-npm-local:simple-mcp";
  }
  EXPECT_TRUE(found);
}

TEST_F(RegistryE2eTest, CallsWithoutValidCredentialsAreUnauthenticated) {
  auto request = BriefExample("ai-pypi-local", kPypiPath, "");
  v1::RegisterCustomServerResponse response;
  EXPECT_EQ(Registry()
                ->RegisterCustomServer(Ctx("").get(), request, &response)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Registry()
                ->RegisterCustomServer(Ctx("mcpreg_not-a-real-token").get(),
                                       request, &response)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // A revoked token stops working at once.
  v1::CreateTokenRequest create;
  create.set_principal("short-lived");
  v1::CreateTokenResponse created;
  ASSERT_TRUE(
      Admin()
          ->CreateToken(Ctx(server_->admin_token()).get(), create, &created)
          .ok());
  v1::RevokeTokenRequest revoke;
  revoke.set_id(created.info().id());
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(
      Admin()
          ->RevokeToken(Ctx(server_->admin_token()).get(), revoke, &revoked)
          .ok());
  grpc::Status s = Registry()->RegisterCustomServer(Ctx(created.token()).get(),
                                                    request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("revoked"));
}

TEST_F(RegistryE2eTest, BadInputNamesTheFieldAndWritesNothing) {
  const int64_t before = Count("SELECT count(*) FROM server_versions");
  auto request = BriefExample("ai-pypi-local", kPypiPath, "");
  request.mutable_mcp_server_info()->mutable_environment_variables(1)->set_name(
      "1BAD");
  v1::RegisterCustomServerResponse response;
  grpc::Status s = Registry()->RegisterCustomServer(
      Ctx(server_->admin_token()).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("mcpServerInfo.environmentVariables[1].name"));

  request = BriefExample("ai-pypi-local", "org/nope/x-1.0.0.tar.gz", "");
  s = Registry()->RegisterCustomServer(Ctx(server_->admin_token()).get(),
                                       request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("repoArtifactInfo.repoPath"));

  request = BriefExample("ai-pypi-local", "../ai-npm-local/x.tgz", "");
  s = Registry()->RegisterCustomServer(Ctx(server_->admin_token()).get(),
                                       request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  request = BriefExample("no-such-repo", kPypiPath, "");
  s = Registry()->RegisterCustomServer(Ctx(server_->admin_token()).get(),
                                       request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("repoArtifactInfo.repoKey"));

  request = BriefExample("ai-pypi-local", kPypiPath,
                         "org/project/mcp-server/1.0.0/MISSING.md");
  s = Registry()->RegisterCustomServer(Ctx(server_->admin_token()).get(),
                                       request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("repoArtifactInfo.readmePath"));

  request = BriefExample("ai-pypi-local", kPypiPath, "");
  request.mutable_mcp_server_info()->set_version("2.0.0");
  s = Registry()->RegisterCustomServer(Ctx(server_->admin_token()).get(),
                                       request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("package's own version"));

  EXPECT_EQ(Count("SELECT count(*) FROM server_versions"), before);
}

TEST_F(RegistryE2eTest, RepositoryPreconditionsAreFailedPrecondition) {
  const std::pair<const char*, const char*> repos[] = {
      {"ai-docker-local", "docker"}, {"ai-pypi-remote", "pypi"}};
  for (const auto& [key, type] : repos) {
    v1::CreateRepositoryRequest create;
    create.mutable_repository()->set_key(key);
    create.mutable_repository()->set_package_type(type);
    create.mutable_repository()->set_repo_class(
        std::string(key).find("remote") != std::string::npos ? "remote"
                                                             : "local");
    create.mutable_repository()->set_project_key("ai-research");
    v1::Repository created;
    grpc::Status s = Admin()->CreateRepository(
        Ctx(server_->admin_token()).get(), create, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  v1::RegisterCustomServerResponse response;
  auto request = BriefExample("ai-docker-local", "x/image-1.0.0.tgz", "");
  grpc::Status s = Registry()->RegisterCustomServer(
      Ctx(server_->admin_token()).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("public MCP catalog"));
  request = BriefExample("ai-pypi-remote", kPypiPath, "");
  s = Registry()->RegisterCustomServer(Ctx(server_->admin_token()).get(),
                                       request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("local repositories only"));
  // Another project's registration from this project's repository.
  request = BriefExample("ai-pypi-local", kPypiPath, "");
  request.set_project_key("other-project");
  s = Registry()->RegisterCustomServer(Ctx(server_->admin_token()).get(),
                                       request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("not assigned to project"));
}

TEST_F(RegistryE2eTest, AdminCallsNeedTheAdminRole) {
  const std::string ci = TokenFor("not-admin", {{"ALLOW", "ai-research"}});
  v1::ListTokensResponse tokens;
  grpc::Status s =
      Admin()->ListTokens(Ctx(ci).get(), v1::ListTokensRequest(), &tokens);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("ADMIN"));
  ASSERT_TRUE(Admin()
                  ->ListTokens(Ctx(server_->admin_token()).get(),
                               v1::ListTokensRequest(), &tokens)
                  .ok());
  EXPECT_GE(tokens.tokens_size(), 2);
  // No token is ever returned by a listing.
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(tokens, &json);
  EXPECT_THAT(json, ::testing::Not(HasSubstr("mcpreg_")));
}

}  // namespace
}  // namespace mcpreg::testing
