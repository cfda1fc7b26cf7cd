// The REST gateway as a CI pipeline meets it: curl against mcpreg-host with
// the real plugin on a real PostgreSQL, using the design brief's endpoints,
// headers and bodies exactly as written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/registry_server.h"
#include "tests/support/shell.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

class RestE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (server_ == nullptr) server_ = new RegistryServer(/*rest=*/true);
    ASSERT_TRUE(server_->ok()) << server_->error();
  }
  static void TearDownTestSuite() {
    if (server_ == nullptr) return;
    EXPECT_EQ(server_->Stop(), 0);
    delete server_;
  }

  // curl, as a user would type it.
  static HttpResult Curl(const std::string& method, const std::string& path,
                         const std::vector<std::string>& headers,
                         const std::string& body = "") {
    return mcpreg::testing::Curl(server_->rest_address(), method, path, headers,
                                 body);
  }
  static std::string Bearer() {
    return "Authorization: Bearer " + server_->admin_token();
  }

  static RegistryServer* server_;
};

RegistryServer* RestE2eTest::server_ = nullptr;

constexpr char kPypiBody[] = R"({ "projectKey": "ai-research",
  "repoArtifactInfo": { "repoKey": "ai-pypi-local",
                        "repoPath": "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz",
                        "readmePath": "org/project/mcp-server/1.0.0/README.md" },
  "mcpServerInfo": { "description": "Example MCP server", "version": "1.0.0",
     "environmentVariables": [ {"name": "API_TOKEN", "description": "token",
                                "format": "string", "isRequired": true,
                                "isSecret": true} ],
     "runtimeArguments": [ {"name": "--port", "description": "port",
                            "format": "number", "type": "named",
                            "defaultValue": "8080"} ] } })";

constexpr char kNpmBody[] = R"({ "projectKey": "ai-research",
  "repoArtifactInfo": { "repoKey": "ai-npm-local",
                        "repoPath": "org/project/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz",
                        "readmePath": "org/project/simple-mcp/1.0.0/README.md" },
  "mcpServerInfo": { "description": "Simple MCP server", "version": "1.0.0" } })";

constexpr char kRegister[] = "/ml/core/api/v1/mcp-registry/custom-server";

TEST_F(RestE2eTest, TheBriefsRegistrationsAndUnregisterWorkAsWritten) {
  HttpResult r = Curl("POST", kRegister, {Bearer()}, kPypiBody);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r["created"].bool_value());
  EXPECT_EQ(
      r["server"].struct_value().fields().at("displayName").string_value(),
      "pypi:ai-pypi-local:mcp-server");
  r = Curl("POST", kRegister, {Bearer()}, kPypiBody);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r["created"].bool_value());  // printed, not omitted
  EXPECT_THAT(r.body, HasSubstr("\"created\":false"));
  r = Curl("POST", kRegister, {Bearer()}, kNpmBody);
  ASSERT_EQ(r.status, 200) << r.body;

  r = Curl("GET", "/api/v1/mcp-registry/servers",
           {Bearer(), "JFrog-Project-Key: ai-research"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("pypi:ai-pypi-local:mcp-server"));
  EXPECT_THAT(r.body, HasSubstr("npm:ai-npm-local:simple-mcp"));
  r = Curl("GET",
           "/api/v1/mcp-registry/servers/npm%3Aai-npm-local%3Asimple-mcp",
           {Bearer(), "JFrog-Project-Key: ai-research"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r["latestVersion"].string_value(), "1.0.0");

  r = Curl("DELETE", "/api/v1/ml/registry/mcp/unregister?name=mcp-server",
           {Bearer(), "JFrog-Project-Key: ai-research"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r["versionsRemoved"].number_value(), 1);
  r = Curl("DELETE", "/api/v1/ml/registry/mcp/unregister?name=mcp-server",
           {Bearer(), "JFrog-Project-Key: ai-research"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r["code"].string_value(), "NOT_FOUND");
  EXPECT_THAT(r["message"].string_value(), HasSubstr("mcp-server"));

  // The audit trail has all of it.
  r = Curl("GET",
           "/api/v1/mcp-registry/audit?action=register&server=pypi:ai-pypi-"
           "local:mcp-server",
           {Bearer(), "JFrog-Project-Key: ai-research"});
  ASSERT_EQ(r.status, 200) << r.body;
  // One row: the identical retry changed nothing and is not a second event.
  EXPECT_EQ(r["events"].list_value().values_size(), 1);
  r = Curl("GET", "/api/v1/mcp-registry/audit?action=unregister",
           {Bearer(), "JFrog-Project-Key: ai-research"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("pypi:ai-pypi-local:mcp-server"));
}

TEST_F(RestE2eTest, ErrorsAreJsonWithTheRightStatus) {
  HttpResult r = Curl("POST", kRegister, {}, kNpmBody);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r["code"].string_value(), "UNAUTHENTICATED");
  ASSERT_TRUE(r.json.fields().contains("details"));

  r = Curl("POST", kRegister, {Bearer()},
           R"({"projectKey": "ai-research", "bogusField": 1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r["message"].string_value(), HasSubstr("bogusField"));

  r = Curl("POST", kRegister, {Bearer()}, R"({"projectKey": "ai-research",)");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r["message"].string_value(), HasSubstr("request body"));

  std::string bad_env = kNpmBody;
  bad_env.replace(
      bad_env.find("\"version\": \"1.0.0\""), 18,
      R"("version": "1.0.0", "environmentVariables": [{"name": "OK"}, {"name": "1BAD"}])");
  r = Curl("POST", kRegister, {Bearer()}, bad_env);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r["message"].string_value(),
              HasSubstr("mcpServerInfo.environmentVariables[1].name"));

  std::string docker = kNpmBody;
  docker.replace(docker.find("ai-npm-local"), 12, "no-such-repo");
  r = Curl("POST", kRegister, {Bearer()}, docker);
  EXPECT_EQ(r.status, 404) << r.body;

  r = Curl("POST", kRegister, {Bearer()},
           std::string(5 << 20, ' ') + kNpmBody);  // over maxRequestBytes
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 200);
  EXPECT_EQ(r["code"].string_value(), "RESOURCE_EXHAUSTED");

  r = Curl("PUT", kRegister, {Bearer()}, kNpmBody);
  EXPECT_EQ(r.status, 405);
  r = Curl("GET", "/api/v1/nothing-here", {Bearer()});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r["code"].string_value(), "NOT_FOUND");
  r = Curl("GET", "/api/v1/mcp-registry/servers?pageSize=lots",
           {Bearer(), "JFrog-Project-Key: ai-research"});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r["message"].string_value(), HasSubstr("pageSize"));
  r = Curl("GET", "/api/v1/mcp-registry/servers?colour=red",
           {Bearer(), "JFrog-Project-Key: ai-research"});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r["message"].string_value(), HasSubstr("colour"));
}

TEST_F(RestE2eTest, PoliciesChecksAndClientConfigOverRest) {
  ASSERT_EQ(Curl("POST", kRegister, {Bearer()}, kNpmBody).status, 200);
  const std::vector<std::string> h = {Bearer(),
                                      "JFrog-Project-Key: ai-research"};
  HttpResult r =
      Curl("PUT", "/api/v1/mcp-registry/servers/simple-mcp/tool-policy", h,
           R"({"mode": "ALLOW_LIST", "entries": [
                             {"pattern": "echo"},
                             {"pattern": "read_.*", "isRegex": true}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r["mode"].string_value(), "ALLOW_LIST");
  r = Curl("POST", "/api/v1/mcp-registry/check", h,
           R"({"server": "simple-mcp", "tool": "read_file"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r["allowed"].bool_value());
  EXPECT_EQ(r["entryIndex"].number_value(), 1);
  r = Curl("POST", "/api/v1/mcp-registry/filter", h,
           R"({"server": "simple-mcp", "tools": ["echo", "rm", "read_x"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr(R"("allowedTools":["echo","read_x"])"));
  r = Curl("GET",
           "/api/v1/mcp-registry/servers/simple-mcp/client-config?client="
           "claude-code",
           h);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r["commandLine"].string_value(), HasSubstr("claude mcp add"));
  r = Curl(
      "PUT", "/api/v1/mcp-registry/servers/simple-mcp/tool-policy", h,
      R"({"mode": "ALLOW_LIST", "entries": [{"pattern": "a(", "isRegex": true}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r["message"].string_value(),
              HasSubstr("policy.entries[0].pattern"));
  // The URL names the server; a query parameter may not redirect the call.
  r = Curl("PUT",
           "/api/v1/mcp-registry/servers/simple-mcp/tool-policy?policy.server="
           "other",
           h, R"({"mode": "ALLOW_ALL"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r["message"].string_value(), HasSubstr("policy.server"));
  r = Curl("POST", "/api/v1/mcp-registry/check?tool=other", h,
           R"({"server": "simple-mcp", "tool": "read_file"})");
  EXPECT_EQ(r.status, 400) << r.body;
  // A request id that is not plain text is replaced, not stored.
  std::vector<std::string> odd_id = h;
  odd_id.push_back("X-Request-Id: %FF%00 not plain");
  r = Curl("POST", "/api/v1/mcp-registry/check", odd_id,
           R"({"server": "simple-mcp", "tool": "echo"})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = Curl("POST", "/api/v1/mcp-registry/audit:verify", {Bearer()}, "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r["intact"].bool_value());
}

}  // namespace
}  // namespace mcpreg::testing
