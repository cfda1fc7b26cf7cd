// GetServer, ListServers, UnregisterCustomServer and GetClientConfig without
// a database: paging and its tokens, the README on the first page only,
// filtering by READ, what an unregister audits, and how a client
// configuration passes the page's value-typed arguments.
#include "plugin/src/handlers/server_handlers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "plugin/src/handlers/governance_handlers.h"
#include "plugin/src/handlers/register_handler.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/handler_harness.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ServerHandlersTest : public HandlerTest {
 protected:
  ServerHandlersTest() {
    admin_ = TokenFor("root");
    Grant("root", "ADMIN", "");
  }

  // Registers simple-mcp `version` from ai-npm-local with a README.
  void RegisterNpm(const std::string& version,
                   const std::vector<v1::RuntimeArgument>& args = {}) {
    const std::string dir = absl::StrCat("simple-mcp/", version, "/");
    WriteArtifact("ai-npm-local", dir + "simple-mcp.tgz",
                  storage::BuildNpmTarball("simple-mcp", version, "demo"));
    WriteArtifact("ai-npm-local", dir + "README.md",
                  absl::StrCat("# simple-mcp ", version, "\n"));
    v1::RegisterCustomServerRequest r;
    r.set_project_key("ai-research");
    r.mutable_repo_artifact_info()->set_repo_key("ai-npm-local");
    r.mutable_repo_artifact_info()->set_repo_path(dir + "simple-mcp.tgz");
    r.mutable_repo_artifact_info()->set_readme_path(dir + "README.md");
    r.mutable_mcp_server_info()->set_description("demo " + version);
    r.mutable_mcp_server_info()->set_version(version);
    for (const auto& a : args) {
      *r.mutable_mcp_server_info()->add_runtime_arguments() = a;
    }
    auto registered = HandleRegisterCustomServer(deps_, *Call(admin_), r);
    ASSERT_TRUE(registered.ok()) << registered.status();
  }

  std::string admin_;
};

TEST_F(ServerHandlersTest, GetServerPagesVersionsAfterTheLatest) {
  for (int i = 1; i <= 7; ++i) RegisterNpm(absl::StrCat("1.0.", i));
  v1::GetServerRequest request;
  request.set_name("simple-mcp");
  request.set_page_size(3);
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = HandleGetServer(deps_, *Call(admin_, "ai-research"), request);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->version_count(), 7u);
    for (const auto& v : page->versions()) {
      seen.push_back(v.version());
      // The README comes with the latest version, on the first page only.
      EXPECT_EQ(v.readme().empty(), pages > 0 || v.version() != "1.0.7")
          << v.version();
    }
    request.set_page_token(page->versions_next_page_token());
    ASSERT_LT(++pages, 5);
  } while (!request.page_token().empty());
  EXPECT_THAT(seen, ::testing::ElementsAre("1.0.7", "1.0.6", "1.0.5", "1.0.4",
                                           "1.0.3", "1.0.2", "1.0.1"));
}

TEST_F(ServerHandlersTest, GetServerRefusesABadTokenOrPageSizeByName) {
  RegisterNpm("1.0.0");
  v1::GetServerRequest request;
  request.set_name("simple-mcp");
  request.set_page_token("not a token");
  auto bad = HandleGetServer(deps_, *Call(admin_, "ai-research"), request);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("pageToken"));
  request.clear_page_token();
  request.set_page_size(201);
  bad = HandleGetServer(deps_, *Call(admin_, "ai-research"), request);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("pageSize"));
}

TEST_F(ServerHandlersTest, ListServersShowsOnlyWhatTheCallerCanRead) {
  RegisterNpm("1.0.0");
  const std::string reader = TokenFor("reader");
  Grant("reader", "READ", "ai-pypi-local");  // not the npm repository
  v1::ListServersRequest request;
  auto none = HandleListServers(deps_, *Call(reader, "ai-research"), request);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->servers_size(), 0);
  Grant("reader", "READ", "ai-npm-local");
  auto one = HandleListServers(deps_, *Call(reader, "ai-research"), request);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->servers_size(), 1);
  EXPECT_EQ(one->servers(0).display_name(), "npm:ai-npm-local:simple-mcp");
}

TEST_F(ServerHandlersTest, UnregisterIsAuditedOnceAndThenNotFound) {
  RegisterNpm("1.0.0");
  RegisterNpm("1.1.0");
  v1::UnregisterCustomServerRequest request;
  request.set_name("npm:ai-npm-local:simple-mcp");
  auto removed = HandleUnregisterCustomServer(
      deps_, *Call(admin_, "ai-research"), request);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->versions_removed(), 2u);
  auto again = HandleUnregisterCustomServer(deps_, *Call(admin_, "ai-research"),
                                            request);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
  const auto rows = Audited("unregister");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].server, "npm:ai-npm-local:simple-mcp");
  EXPECT_EQ(rows[0].actor, "root");
}

TEST_F(ServerHandlersTest, ClientConfigRunsTheGuardByDefault) {
  RegisterNpm("1.0.0");
  deps_.registry_address = "registry.example:7443";
  v1::GetClientConfigRequest request;
  request.set_server("simple-mcp");
  request.set_client("vscode");
  auto config =
      HandleGetClientConfig(deps_, *Call(admin_, "ai-research"), request);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->config_json(), HasSubstr("\"command\": \"mcpreg\""));
  EXPECT_THAT(config->config_json(),
              HasSubstr("\"MCPREG_ADDR\": \"registry.example:7443\""));
  EXPECT_THAT(config->config_json(), HasSubstr("${input:MCPREG_TOKEN}"));
  request.set_launcher("direct");  // no package URL configured
  EXPECT_EQ(HandleGetClientConfig(deps_, *Call(admin_, "ai-research"), request)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  request.set_launcher("npx");
  EXPECT_EQ(HandleGetClientConfig(deps_, *Call(admin_, "ai-research"), request)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerHandlersTest, ClientConfigTellsTheGuardHowToTrustTheRegistry) {
  RegisterNpm("1.0.0");
  v1::GetClientConfigRequest request;
  request.set_server("simple-mcp");
  request.set_client("claude-code");
  const auto config_json = [&] {
    auto config =
        HandleGetClientConfig(deps_, *Call(admin_, "ai-research"), request);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? config->config_json() + config->command_line() : "";
  };
  EXPECT_THAT(config_json(), Not(HasSubstr("MCPREG_TLS")));
  deps_.registry_tls = true;
  EXPECT_THAT(config_json(), HasSubstr("\"MCPREG_TLS\": \"1\""));
  EXPECT_THAT(config_json(), HasSubstr("-e 'MCPREG_TLS=1'"));
  deps_.registry_ca_file = "/etc/mcpreg/ca.pem";
  const std::string with_ca = config_json();
  EXPECT_THAT(with_ca, HasSubstr("\"MCPREG_CA_FILE\": \"/etc/mcpreg/ca.pem\""));
  EXPECT_THAT(with_ca, HasSubstr("-e 'MCPREG_CA_FILE=/etc/mcpreg/ca.pem'"));
}

TEST_F(ServerHandlersTest, ClientConfigPassesValueTypedArgumentsAsNamed) {
  v1::RuntimeArgument port;
  port.set_name("--port");
  port.set_format("integer");
  port.set_type("int");
  port.set_default_value("8080");
  v1::RuntimeArgument verbose;
  verbose.set_name("--verbose");
  verbose.set_type("bool");
  verbose.set_default_value("false");
  v1::RuntimeArgument config;
  config.set_name("config");
  config.set_type("positional");
  config.set_default_value("conf.json");
  RegisterNpm("1.0.0", {port, verbose, config});
  // The direct npx entry puts them on its command line (the guard passes
  // them itself).
  deps_.package_base_url = "https://artifacts.example";
  v1::GetClientConfigRequest request;
  request.set_server("simple-mcp");
  request.set_client("cursor");
  request.set_launcher("direct");
  auto cursor =
      HandleGetClientConfig(deps_, *Call(admin_, "ai-research"), request);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_THAT(
      cursor->config_json(),
      ::testing::ContainsRegex(
          R"("simple-mcp@1.0.0",\s*"--port",\s*"8080",\s*"conf.json")"));
  EXPECT_THAT(cursor->config_json(), ::testing::Not(HasSubstr("--verbose")));
  request.set_version("9.9.9");
  auto missing =
      HandleGetClientConfig(deps_, *Call(admin_, "ai-research"), request);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("has no version '9.9.9'"));
}

}  // namespace
}  // namespace mcpreg::testing
