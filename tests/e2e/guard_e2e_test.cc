// mcpreg guard end to end, with a real MCP client: the official TypeScript
// SDK (tests/mcp/guard_client.mjs, installed by `npm ci` in tests/mcp) runs
// the guard over stdio against a real mcpreg-host and PostgreSQL and the
// quickstart's sample servers, one scenario per test; this side registers,
// tampers and reads the audit log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "storage/repo/repository_store.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/shared_registry_test.h"
#include "tests/support/shell.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kNpmServer[] = "npm:ai-npm-local:simple-mcp";
constexpr char kPypiServer[] = "pypi:ai-pypi-local:mcp-server";

class GuardE2eTest : public SharedRegistryTest<GuardE2eTest> {
 protected:
  void SetUp() override {
    SharedRegistryTest::SetUp();
    ASSERT_TRUE(std::filesystem::exists(
        absl::StrCat(MCPREG_TEST_SOURCE_DIR,
                     "/tests/mcp/node_modules/@modelcontextprotocol/sdk")))
        << "the MCP SDK is not installed: run `npm ci` in tests/mcp "
           "(ci/test.sh does)";
    char tmpl[] = "/tmp/mcpreg-guard-e2e-XXXXXX";
    scratch_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(scratch_); }

  std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    ctx->AddMetadata("authorization", "Bearer " + server_->admin_token());
    ctx->AddMetadata("jfrog-project-key", "ai-research");
    return ctx;
  }

  void Register(const v1::RegisterCustomServerRequest& request) {
    v1::RegisterCustomServerResponse out;
    grpc::Status s = v1::McpRegistry::NewStub(*channel_)->RegisterCustomServer(
        Ctx().get(), request, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  void RegisterExample(const std::string& file) {
    std::ifstream in(absl::StrCat(MCPREG_TEST_SOURCE_DIR, "/examples/", file));
    std::string body((std::istreambuf_iterator<char>(in)), {});
    v1::RegisterCustomServerRequest r;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(body, &r).ok());
    Register(r);
  }
  static v1::RegisterCustomServerRequest Minimal(const std::string& repo,
                                                 const std::string& path) {
    v1::RegisterCustomServerRequest r;
    r.set_project_key("ai-research");
    r.mutable_repo_artifact_info()->set_repo_key(repo);
    r.mutable_repo_artifact_info()->set_repo_path(path);
    r.mutable_mcp_server_info()->set_description("for the guard's tests");
    r.mutable_mcp_server_info()->set_version("1.0.0");
    return r;
  }
  void WriteArtifact(const std::string& repo, const std::string& path,
                     const std::string& bytes) {
    auto storage =
        storage::NewFilesystemRepositoryStore(server_->home() + "/storage");
    ASSERT_TRUE(storage.ok());
    ASSERT_TRUE((*storage)->WriteArtifact(repo, path, bytes).ok());
  }

  // Runs one scenario of guard_client.mjs with the guard on `server`.
  void RunScenario(const std::string& scenario, const std::string& server) {
    ShellResult r =
        RunShell(absl::StrCat("node tests/mcp/guard_client.mjs ", scenario),
                 MCPREG_TEST_SOURCE_DIR,
                 {{"MCPREG_CLI", MCPREG_TEST_CLI_BINARY},
                  {"MCPREG_ADDR", server_->address()},
                  {"MCPREG_TOKEN", server_->admin_token()},
                  {"GUARD_SERVER", server},
                  {"GUARD_CALL_LOG", scratch_ + "/calls"},
                  {"GUARD_CACHE", scratch_ + "/cache"},
                  {"HOST_PID", std::to_string(server_->host().pid())}});
    EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
    EXPECT_THAT(r.out, HasSubstr("ok " + scenario));
  }

  std::vector<v1::AuditEvent> Audited(const std::string& action) {
    v1::ListAuditEventsRequest r;
    r.set_action(action);
    r.set_page_size(1000);
    v1::ListAuditEventsResponse out;
    grpc::Status s = v1::McpRegistry::NewStub(*channel_)->ListAuditEvents(
        Ctx().get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {out.events().begin(), out.events().end()};
  }

  std::string scratch_;
};

TEST_F(GuardE2eTest, TheNpmSampleIsGovernedCallByCallAndAudited) {
  RegisterExample("register-npm.json");
  RunScenario("enforce", kNpmServer);
  // Every decision is in the audit log, with the client and the session.
  const auto checks = Audited("tool.check");
  ASSERT_EQ(checks.size(), 4u);  // echo, delete, add, delete
  int allowed = 0, denied = 0;
  for (const v1::AuditEvent& e : checks) {
    EXPECT_EQ(e.server(), kNpmServer);
    EXPECT_THAT(e.details_json(), HasSubstr("\"client\": \"mcpreg-e2e\""));
    EXPECT_THAT(e.details_json(), HasSubstr("\"clientVersion\": \"1.2.3\""));
    EXPECT_THAT(e.details_json(), HasSubstr("\"session\""));
    (e.decision() == "ALLOW" ? allowed : denied)++;
  }
  EXPECT_GE(allowed, 2);
  EXPECT_GE(denied, 2);
  EXPECT_FALSE(Audited("artifact.fetch").empty());
}

TEST_F(GuardE2eTest, TheSdistSampleRunsFromItsSourceTree) {
  Register(Minimal("ai-pypi-local",
                   "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz"));
  RunScenario("enforce", kPypiServer);
}

TEST_F(GuardE2eTest, WithTheRegistryDownCallsAreRefusedNotForwarded) {
  RegisterExample("register-npm.json");
  RunScenario("registryDown", kNpmServer);
}

TEST_F(GuardE2eTest, AMissingRequiredVariableIsNamedAndNothingStarts) {
  RegisterExample("register-pypi.json");  // DB_CONNECTION_STRING, required
  RunScenario("missingEnv", kPypiServer);
}

TEST_F(GuardE2eTest, APackageThatChangedSinceRegistrationIsNotRun) {
  RegisterExample("register-npm.json");
  WriteArtifact("ai-npm-local",
                "org/project/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz",
                storage::BuildNpmTarball("simple-mcp", "1.0.0", "tampered"));
  RunScenario("digestMismatch", kNpmServer);
}

// Servers that answer initialize, then die or write garbage.
TEST_F(GuardE2eTest, ABrokenServerIsReportedNotHungOn) {
  const auto package = [](const std::string& name, const std::string& then) {
    return storage::BuildTarGz(
        {{"package/package.json",
          absl::StrCat(R"({"name": ")", name,
                       R"(", "version": "1.0.0", "bin": "index.js"})")},
         {"package/index.js", absl::StrCat(R"JS(
const rl = require('readline').createInterface({input: process.stdin});
rl.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.method === 'initialize') {
    process.stdout.write(JSON.stringify({jsonrpc: '2.0', id: m.id, result: {
      protocolVersion: '2025-06-18', capabilities: {tools: {}},
      serverInfo: {name: 'broken', version: '1.0.0'}}}) + '\n');
  } else if (m.id !== undefined) {
    )JS",
                                           then, R"JS(
  }
});
)JS")}});
  };
  WriteArtifact("ai-npm-local", "broken/crash-mcp-1.0.0.tgz",
                package("crash-mcp", "process.exit(3);"));
  WriteArtifact(
      "ai-npm-local", "broken/garbage-mcp-1.0.0.tgz",
      package("garbage-mcp", "process.stdout.write('this is not json\\n');"));
  Register(Minimal("ai-npm-local", "broken/crash-mcp-1.0.0.tgz"));
  Register(Minimal("ai-npm-local", "broken/garbage-mcp-1.0.0.tgz"));
  RunScenario("brokenServer", "npm:ai-npm-local:crash-mcp");
  RunScenario("brokenServer", "npm:ai-npm-local:garbage-mcp");
}

}  // namespace
}  // namespace mcpreg::testing
