// The mcpreg CLI as an operator and a CI pipeline run it: the real binary
// against a running registry (mcpreg-host + libmcpreg.so + PostgreSQL), with
// the address and token from the environment as the README shows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/registry_server.h"
#include "tests/support/shared_registry_test.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the CLI with MCPREG_ADDR / MCPREG_TOKEN set as given ("" = unset).
CliResult Cli(const std::string& addr, const std::string& token,
              const std::vector<std::string>& args) {
  // Per process: ctest runs each test of this binary as its own process,
  // several at once.
  const std::string base =
      absl::StrCat(::testing::TempDir(), "/mcpreg-cli-", getpid());
  const std::string out = base + ".out";
  const std::string err = base + ".err";
  std::string command = "env -u MCPREG_ADDR -u MCPREG_TOKEN -u MCPREG_PROJECT";
  if (!addr.empty()) absl::StrAppend(&command, " MCPREG_ADDR=", Quote(addr));
  if (!token.empty()) absl::StrAppend(&command, " MCPREG_TOKEN=", Quote(token));
  absl::StrAppend(&command, " ", MCPREG_TEST_CLI_BINARY);
  for (const std::string& a : args) absl::StrAppend(&command, " ", Quote(a));
  absl::StrAppend(&command, " >", out, " 2>", err, " </dev/null");
  const int status = std::system(command.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(out);
  r.err = Slurp(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

std::string Example(const std::string& name) {
  return absl::StrCat(MCPREG_TEST_SOURCE_DIR, "/examples/", name);
}

TEST(CliTest, EveryCommandHasHelp) {
  for (const char* command : {"info",
                              "health",
                              "register",
                              "unregister",
                              "get",
                              "list",
                              "admin repo create",
                              "admin repo list",
                              "admin token create",
                              "admin token revoke",
                              "admin token list",
                              "admin grant add",
                              "admin grant revoke",
                              "admin grant list",
                              "policy set",
                              "policy get",
                              "check",
                              "filter",
                              "audit list",
                              "audit verify",
                              "client-config"}) {
    std::vector<std::string> args = absl::StrSplit(command, ' ');
    args.push_back("--help");
    CliResult r = Cli("", "", args);
    EXPECT_EQ(r.exit_code, 0) << command << r.err;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("usage: mcpreg ", command)));
  }
  CliResult top = Cli("", "", {"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_THAT(top.out, HasSubstr("Exit codes"));
}

TEST(CliTest, UsageErrorsExitTwoAndSendNothing) {
  // No server runs at this address: a usage error must not even try.
  const std::string nowhere = "127.0.0.1:1";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"admin"},
           {"list", "--bogus"},
           {"get"},
           {"register", "--json"},
           {"register", "--json", "/nonexistent/body.json"},
           {"admin token revoke", "--id", "x"},
           {"--timeout", "0", "list"},
       }) {
    std::vector<std::string> split;
    for (const std::string& a : args) {
      for (absl::string_view w : absl::StrSplit(a, ' ')) split.emplace_back(w);
    }
    CliResult r = Cli(nowhere, "", split);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(split, " ") << ": " << r.err;
    EXPECT_FALSE(r.err.empty());
  }
}

TEST(CliTest, UnreachableRegistryExitsThreeWithAHint) {
  CliResult r = Cli("127.0.0.1:1", "", {"--timeout", "2", "info"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("MCPREG_ADDR"));
}

class CliRegistryTest : public SharedRegistryTest<CliRegistryTest> {
 protected:
  static CliResult Run(const std::string& token,
                       const std::vector<std::string>& args) {
    return Cli(server_->address(), token, args);
  }
  static CliResult Admin(const std::vector<std::string>& args) {
    return Run(server_->admin_token(), args);
  }
};

TEST_F(CliRegistryTest, BriefExamplesRegisterListGetAndUnregister) {
  CliResult r = Admin({"register", "--json", Example("register-pypi.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "registered pypi:ai-pypi-local:mcp-server 1.0.0\n");
  r = Admin({"register", "--json", Example("register-pypi.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("already registered"));
  r = Admin({"register", "--json", Example("register-npm.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("npm:ai-npm-local:simple-mcp"));

  r = Admin({"--project", "ai-research", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("pypi:ai-pypi-local:mcp-server"));
  EXPECT_THAT(r.out, HasSubstr("npm:ai-npm-local:simple-mcp"));

  r = Admin({"--project", "ai-research", "--json", "get", "--name",
             "npm:ai-npm-local:simple-mcp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  google::protobuf::Struct server;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &server).ok())
      << r.out;
  EXPECT_EQ(server.fields().at("latestVersion").string_value(), "1.0.0");
  EXPECT_EQ(server.fields().at("description").string_value(),
            "A basic utility MCP server with default settings");

  r = Admin({"--project", "ai-research", "get", "--name", "mcp-server"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("DB_CONNECTION_STRING"));
  // The page's value-typed argument, and how a client passes it.
  EXPECT_THAT(r.out, ::testing::ContainsRegex("--port +int +integer +8080 +"
                                              "--port 8080"));
  EXPECT_THAT(r.out, HasSubstr("# mcp-server"));  // the README

  r = Admin({"--project", "ai-research", "unregister", "--name", "mcp-server"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(1 version)"));
  r = Admin({"--project", "ai-research", "get", "--name", "mcp-server"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  r = Admin({"--project", "ai-research", "unregister", "--name", "mcp-server"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
}

TEST_F(CliRegistryTest, RegisterWithFlagsAndBadInput) {
  CliResult r = Admin(
      {"register", "--project", "ai-research", "--repo", "ai-pypi-local",
       "--path", "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz",
       "--description", "by flags", "--version", "1.0.0", "--name", "flagged",
       "--env", "API_URL:url", "--secret-env", "API_KEY", "--output-json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"created\": true"));
  EXPECT_THAT(r.out, HasSubstr("\"isSecret\": true"));

  r = Admin({"register", "--project", "ai-research", "--repo", "ai-pypi-local",
             "--path", "../../etc/passwd", "--description", "x", "--version",
             "1.0.0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("repoArtifactInfo.repoPath"));

  const std::string bad =
      absl::StrCat(::testing::TempDir(), "/mcpreg-bad-", getpid(), ".json");
  std::ofstream(bad) << R"({"projectKey": "ai-research", "bogus": 1})";
  r = Admin({"register", "--json", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("bogus"));
}

TEST_F(CliRegistryTest, OperatorsManageTokensGrantsAndRepositories) {
  // A new principal's token works for nothing until granted.
  CliResult r = Admin({"admin", "token", "create", "--principal", "ci-bot",
                       "--description", "pipeline"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string ci = std::string(absl::StripAsciiWhitespace(r.out));
  ASSERT_THAT(ci, ::testing::StartsWith("mcpreg_"));
  EXPECT_THAT(r.err, HasSubstr("shown only now"));

  const std::vector<std::string> register_npm = {
      "register", "--json", Example("register-npm.json"), "--name", "ci-npm"};
  r = Run(ci, register_npm);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ALLOW"));
  EXPECT_THAT(r.err, HasSubstr("admin grant add"));

  ASSERT_EQ(Admin({"admin", "grant", "add", "--principal", "ci-bot",
                   "--permission", "ALLOW", "--resource", "ai-research"})
                .exit_code,
            0);
  ASSERT_EQ(Admin({"admin", "grant", "add", "--principal", "ci-bot",
                   "--permission", "READ", "--resource", "ai-npm-local"})
                .exit_code,
            0);
  r = Run(ci, register_npm);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = Admin({"admin", "grant", "list", "--principal", "ci-bot"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("ai-npm-local"));

  ASSERT_EQ(Admin({"admin", "grant", "revoke", "--principal", "ci-bot",
                   "--permission", "READ", "--resource", "ai-npm-local"})
                .exit_code,
            0);
  r = Run(ci, register_npm);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(Admin({"admin", "grant", "revoke", "--principal", "ci-bot",
                   "--permission", "READ", "--resource", "ai-npm-local"})
                .exit_code,
            5);

  // Revoking the token locks it out at once; listing never shows values.
  r = Admin({"--json", "admin", "token", "list", "--principal", "ci-bot"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, Not(HasSubstr(ci)));
  google::protobuf::Struct tokens;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &tokens).ok());
  const std::string id = tokens.fields()
                             .at("tokens")
                             .list_value()
                             .values(0)
                             .struct_value()
                             .fields()
                             .at("id")
                             .string_value();  // int64 is a JSON string
  ASSERT_EQ(Admin({"admin", "token", "revoke", "--id", id}).exit_code, 0);
  r = Run(ci, {"--project", "ai-research", "list"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("revoked"));

  // Non-admins cannot administer.
  r = Run(ci, {"admin", "repo", "list"});
  EXPECT_EQ(r.exit_code, 4);

  r = Admin({"admin", "repo", "create", "--key", "team-npm", "--type", "npm",
             "--project", "ai-research"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Admin({"admin", "repo", "create", "--key", "team-npm", "--type", "npm"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("already exists"));
  r = Admin({"admin", "repo", "list"});
  EXPECT_THAT(r.out, HasSubstr("team-npm"));
}

TEST_F(CliRegistryTest, GovernanceCommands) {
  ASSERT_EQ(
      Admin({"register", "--json", Example("register-npm.json")}).exit_code, 0);
  const std::vector<std::string> in_project = {"--project", "ai-research"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), in_project.begin(), in_project.end());
    return Admin(args);
  };
  // Zero trust until a policy exists.
  CliResult r = run({"check", "--server", "simple-mcp", "--tool", "echo"});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_THAT(r.out, HasSubstr("DENY echo"));
  r = run({"policy", "get", "--server", "simple-mcp"});
  EXPECT_EQ(r.exit_code, 5);

  r = run({"policy", "set", "--server", "simple-mcp", "--mode", "allow-list",
           "--tool", "echo", "--pattern", "read_.*"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ALLOW_LIST"));
  EXPECT_THAT(r.out, HasSubstr("read_.*"));
  r = run({"policy", "set", "--server", "simple-mcp", "--mode", "allow-list",
           "--pattern", "(unclosed"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("policy.entries[0].pattern"));
  r = run({"policy", "set", "--server", "simple-mcp", "--mode", "maybe"});
  EXPECT_EQ(r.exit_code, 2);

  r = run({"check", "--server", "simple-mcp", "--tool", "echo"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ALLOW echo"));
  r = run({"filter", "--server", "npm:ai-npm-local:simple-mcp", "--tool",
           "echo", "--tool", "write_file", "--tool", "read_file"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "echo\nread_file\n");

  r = run({"audit", "list", "--action", "tool.check", "--decision", "DENY"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("tool.check"));
  EXPECT_THAT(r.out, HasSubstr("echo"));
  r = run({"audit", "list", "--since", "yesterday"});
  EXPECT_EQ(r.exit_code, 2);
  r = Admin({"audit", "verify"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("intact"));

  r = run({"client-config", "--server", "simple-mcp", "--client", "cursor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(".cursor/mcp.json"));
  // The guard, pinned to the version, is what the IDE runs.
  EXPECT_THAT(r.out, ::testing::ContainsRegex(
                         R"("guard",\s*"--project",\s*"ai-research",\s*)"
                         R"("--server",\s*"npm:ai-npm-local:simple-mcp",\s*)"
                         R"("--version",\s*"1.0.0")"));
  // The page's PyPI example: its variable as a placeholder.
  ASSERT_EQ(
      Admin({"register", "--json", Example("register-pypi.json")}).exit_code,
      0);
  r = run({"client-config", "--server", "mcp-server", "--client", "cursor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("${env:DB_CONNECTION_STRING}"));
  EXPECT_THAT(r.out, HasSubstr("${env:MCPREG_TOKEN}"));

  r = run({"list", "--search", "SIMPLE"});
  EXPECT_THAT(r.out, HasSubstr("simple-mcp"));
  r = run({"list", "--search", "nothing-like-it"});
  EXPECT_THAT(r.out, Not(HasSubstr("simple-mcp")));
}

TEST_F(CliRegistryTest, BadTokenExitsFour) {
  CliResult r = Run("mcpreg_not-a-real-token-at-all",
                    {"--project", "ai-research", "list"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("MCPREG_TOKEN"));
}

}  // namespace
}  // namespace mcpreg::testing
