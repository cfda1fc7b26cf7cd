// mcpreg guard end to end, with a real MCP client: the official TypeScript
// SDK (tests/mcp/guard_client.mjs, installed by `npm ci` in tests/mcp) runs
// the guard over stdio against a real mcpreg-host and PostgreSQL and the
// quickstart's sample servers, or a fixture whose tool definitions change
// (tests/mcp/fixtures/pinned_server.js), one scenario per test; this side
// registers, tampers and reads the audit log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/match.h"
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
using ::testing::Not;

constexpr char kNpmServer[] = "npm:ai-npm-local:simple-mcp";
constexpr char kPypiServer[] = "pypi:ai-pypi-local:mcp-server";
constexpr char kPinnedServer[] = "npm:ai-npm-local:pinned-mcp";
constexpr char kTofuServer[] = "npm:ai-npm-local:tofu-mcp";

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

  // Version `version` of tests/mcp/fixtures/pinned_server.js as the npm
  // package `name`, written to ai-npm-local and registered.
  void RegisterPinnedFixture(const std::string& name,
                             const std::string& version) {
    std::ifstream in(absl::StrCat(MCPREG_TEST_SOURCE_DIR,
                                  "/tests/mcp/fixtures/pinned_server.js"));
    const std::string server((std::istreambuf_iterator<char>(in)), {});
    ASSERT_FALSE(server.empty());
    const std::string path = absl::StrCat("org/project/", name, "/", version,
                                          "/", name, "-", version, ".tgz");
    WriteArtifact(
        "ai-npm-local", path,
        storage::BuildTarGz(
            {{"package/package.json",
              absl::StrCat(R"({"name": ")", name, R"(", "version": ")", version,
                           R"(", "bin": "index.js"})")},
             {"package/index.js", server}}));
    v1::RegisterCustomServerRequest r = Minimal("ai-npm-local", path);
    r.mutable_mcp_server_info()->set_version(version);
    Register(r);
  }

  // Every definition recorded for `server`, by tool, newest first.
  std::map<std::string, std::vector<v1::ToolDefinitionRecord>> Definitions(
      const std::string& server) {
    v1::ListToolDefinitionsRequest r;
    r.set_server(server);
    v1::ListToolDefinitionsResponse out;
    grpc::Status s = v1::McpRegistry::NewStub(*channel_)->ListToolDefinitions(
        Ctx().get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<std::string, std::vector<v1::ToolDefinitionRecord>> by_tool;
    for (const auto& d : out.definitions()) by_tool[d.tool()].push_back(d);
    return by_tool;
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
                  {"GUARD_SCRATCH", scratch_},
                  {"HOST_PID", std::to_string(server_->host().pid())}});
    EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
    EXPECT_THAT(r.out, HasSubstr("ok " + scenario));
  }

  // Newest first; of `server` only, when given.
  std::vector<v1::AuditEvent> Audited(const std::string& action,
                                      const std::string& server = "") {
    v1::ListAuditEventsRequest r;
    r.set_action(action);
    r.set_server(server);
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

// The definitionDigest of a tool.check row's details.
std::string Digest(const std::string& details_json) {
  const std::string kKey = "\"definitionDigest\": \"";
  const size_t at = details_json.find(kKey);
  return at == std::string::npos ? ""
                                 : details_json.substr(at + kKey.size(), 64);
}

// Issue 24 with a real client: examples/tool-policy-arguments.json on a
// server whose tool definitions change mid-session (a rug pull announced
// with tools/list_changed) and with an upgrade. A definition nobody approved
// is neither listed nor called; the audit log names the old and new digests
// and which policy entry and condition refused a call, never its arguments.
TEST_F(GuardE2eTest, PinnedDefinitionsHoldAgainstARugPullAndAnUpgrade) {
  RegisterPinnedFixture("pinned-mcp", "1.0.0");
  RunScenario("pinning", kPinnedServer);
  ASSERT_FALSE(HasFailure());
  auto definitions = Definitions(kPinnedServer);
  ASSERT_EQ(definitions["echo"].size(), 2u);       // as first seen, pulled
  ASSERT_EQ(definitions["read_file"].size(), 1u);  // 1.0.0's
  const std::string echo_v1 = definitions["echo"][1].digest();
  const std::string echo_pulled = definitions["echo"][0].digest();
  const std::string read_v1 = definitions["read_file"][0].digest();

  RegisterPinnedFixture("pinned-mcp", "2.0.0");
  RunScenario("pinningUpgrade", kPinnedServer);
  ASSERT_FALSE(HasFailure());
  definitions = Definitions(kPinnedServer);
  ASSERT_EQ(definitions["echo"].size(), 2u);  // 2.0.0 shows echo as 1.0.0
  ASSERT_EQ(definitions["read_file"].size(), 2u);
  const std::string read_v2 = definitions["read_file"][0].digest();
  EXPECT_EQ(definitions["read_file"][0].previous_digest(), read_v1);
  EXPECT_EQ(definitions["read_file"][0].first_version(), "2.0.0");
  for (const auto& [tool, records] : definitions) {
    for (const auto& d : records) {
      EXPECT_TRUE(d.approved()) << tool << " " << d.digest();
    }
  }

  // Each change audited once, naming both digests.
  std::map<std::string, v1::AuditEvent> changed;
  for (const v1::AuditEvent& e :
       Audited("tool.definition_changed", kPinnedServer)) {
    EXPECT_TRUE(changed.emplace(e.tool(), e).second) << e.tool() << " twice";
  }
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed["echo"].decision(), "DENY");
  EXPECT_THAT(changed["echo"].details_json(), HasSubstr(echo_v1));
  EXPECT_THAT(changed["echo"].details_json(), HasSubstr(echo_pulled));
  EXPECT_THAT(changed["echo"].reason(), HasSubstr("(version 1.0.0)"));
  EXPECT_EQ(changed["read_file"].decision(), "DENY");
  EXPECT_THAT(changed["read_file"].details_json(), HasSubstr(read_v1));
  EXPECT_THAT(changed["read_file"].details_json(), HasSubstr(read_v2));
  EXPECT_THAT(changed["read_file"].reason(), HasSubstr("(version 2.0.0)"));

  // Approved: 1.0.0 as a whole, then the pulled echo, then 2.0.0's read_file.
  std::multimap<std::string, std::string> approved;  // tool -> details
  for (const v1::AuditEvent& e :
       Audited("tool.definition_approved", kPinnedServer)) {
    EXPECT_EQ(e.decision(), "ALLOW");
    approved.emplace(e.tool(), e.details_json());
  }
  ASSERT_EQ(approved.size(), 4u);
  for (const auto& [tool, digest] :
       std::vector<std::pair<std::string, std::string>>{
           {"echo", echo_v1},
           {"echo", echo_pulled},
           {"read_file", read_v1},
           {"read_file", read_v2}}) {
    const auto [from, to] = approved.equal_range(tool);
    EXPECT_TRUE(std::any_of(from, to,
                            [&digest = digest](const auto& a) {
                              return a.second.find(digest) != std::string::npos;
                            }))
        << tool << " " << digest << " was not approved";
  }

  // Every call decided, with the digest the session saw; the refusals by
  // argument conditions name the entry and the condition, and no row keeps
  // an argument's value.
  std::vector<std::string> unapproved;  // "tool digest", newest first
  int by_condition = 0, allowed_reads = 0;
  const auto checks = Audited("tool.check", kPinnedServer);
  for (const v1::AuditEvent& e : checks) {
    const std::string row = absl::StrCat(e.reason(), " ", e.details_json());
    for (const char* value : {"shadow", "passwd", "id_rsa", ".ssh", "data2",
                              "notes.txt", "before", "after", "pulled"}) {
      EXPECT_THAT(row, Not(HasSubstr(value))) << row;
    }
    EXPECT_THAT(e.details_json(), HasSubstr("\"definitionDigest\"")) << row;
    EXPECT_THAT(e.details_json(), HasSubstr("\"client\": \"mcpreg-e2e\""));
    if (e.decision() == "DENY" &&
        absl::StrContains(e.reason(), "is not approved")) {
      unapproved.push_back(e.tool() + " " + Digest(e.details_json()));
    } else if (e.decision() == "DENY") {
      ++by_condition;
      EXPECT_EQ(e.tool(), "read_file");
      EXPECT_THAT(e.reason(), HasSubstr("tool name 'read_file' matched, but "
                                        "its condition"));
      EXPECT_THAT(e.details_json(), HasSubstr("\"entryIndex\": 0"));
      EXPECT_THAT(e.details_json(), HasSubstr("\"conditionIndex\": "));
    } else if (e.tool() == "read_file") {
      ++allowed_reads;
      EXPECT_THAT(e.reason(), HasSubstr("conditions hold"));
    }
  }
  // echo before approval; echo after the rug pull, with the digest the guard
  // learned by listing the tools itself (the client had not listed them
  // again); read_file after the upgrade.
  EXPECT_THAT(unapproved,
              ::testing::ElementsAre("read_file " + read_v2,
                                     "echo " + echo_pulled, "echo " + echo_v1));
  // Four paths and followSymlinks on 1.0.0, /etc/passwd on 2.0.0.
  EXPECT_EQ(by_condition, 6);
  EXPECT_EQ(allowed_reads, 2);
  EXPECT_EQ(checks.size(), 13u);  // and echo allowed twice
}

TEST_F(GuardE2eTest, TrustOnFirstUseTrustsNoDefinitionAnUpgradeChanged) {
  RegisterPinnedFixture("tofu-mcp", "1.0.0");
  RunScenario("trustOnFirstUse", kTofuServer);
  ASSERT_FALSE(HasFailure());
  const auto approved = Audited("tool.definition_approved", kTofuServer);
  ASSERT_EQ(approved.size(), 2u);  // echo and read_file as first seen
  for (const v1::AuditEvent& e : approved) {
    EXPECT_THAT(e.reason(), HasSubstr("approved on first use"));
  }

  RegisterPinnedFixture("tofu-mcp", "2.0.0");
  RunScenario("trustOnFirstUseUpgrade", kTofuServer);
  EXPECT_EQ(Audited("tool.definition_approved", kTofuServer).size(), 2u);
  const auto changed = Audited("tool.definition_changed", kTofuServer);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].tool(), "read_file");
  EXPECT_THAT(changed[0].reason(), HasSubstr("not usable until approved"));
}

}  // namespace
}  // namespace mcpreg::testing
