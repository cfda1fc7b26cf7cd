// RegisterCustomServer's own logic, without a database: the name from the
// package's manifest, version and package-type mismatches, repository
// rules, the audit row of a refusal, and the identical retry.
#include "plugin/src/handlers/register_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/repo/sample_packages.h"
#include "tests/support/handler_harness.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kNpmPath[] = "org/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz";
constexpr char kPypiPath[] = "org/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz";

class RegisterHandlerTest : public HandlerTest {
 protected:
  RegisterHandlerTest() {
    WriteArtifact("ai-npm-local", kNpmPath,
                  storage::BuildNpmTarball("simple-mcp", "1.0.0", "demo"));
    WriteArtifact("ai-pypi-local", kPypiPath,
                  storage::BuildSdist("mcp-server", "1.0.0", "demo"));
    token_ = TokenFor("ci-bot");
    Grant("ci-bot", "ALLOW", "ai-research");
    Grant("ci-bot", "READ", "ai-npm-local");
    Grant("ci-bot", "READ", "ai-pypi-local");
  }

  static v1::RegisterCustomServerRequest Request(const std::string& repo,
                                                 const std::string& path,
                                                 const std::string& version) {
    v1::RegisterCustomServerRequest r;
    r.set_project_key("ai-research");
    r.mutable_repo_artifact_info()->set_repo_key(repo);
    r.mutable_repo_artifact_info()->set_repo_path(path);
    r.mutable_mcp_server_info()->set_description("a server");
    r.mutable_mcp_server_info()->set_version(version);
    return r;
  }
  absl::StatusOr<v1::RegisterCustomServerResponse> Register(
      const v1::RegisterCustomServerRequest& r, const std::string& token) {
    return HandleRegisterCustomServer(deps_, *Call(token), r);
  }
  absl::StatusOr<v1::RegisterCustomServerResponse> Register(
      const v1::RegisterCustomServerRequest& r) {
    return Register(r, token_);
  }

  std::string token_;
};

TEST_F(RegisterHandlerTest, TheNameIsThePackagesOwnWhenNoneIsGiven) {
  auto npm = Register(Request("ai-npm-local", kNpmPath, "1.0.0"));
  ASSERT_TRUE(npm.ok()) << npm.status();
  EXPECT_EQ(npm->server().name(), "simple-mcp");  // package.json "name"
  EXPECT_EQ(npm->server().display_name(), "npm:ai-npm-local:simple-mcp");
  auto pypi = Register(Request("ai-pypi-local", kPypiPath, "1.0.0"));
  ASSERT_TRUE(pypi.ok()) << pypi.status();
  EXPECT_EQ(pypi->server().name(), "mcp-server");  // PKG-INFO "Name"
  EXPECT_EQ(pypi->server().display_name(), "pypi:ai-pypi-local:mcp-server");
  ASSERT_EQ(pypi->server().versions_size(), 1);
  EXPECT_EQ(pypi->server().versions(0).artifact_sha256().size(), 64u);
}

TEST_F(RegisterHandlerTest, AGivenNameWinsOverThePackages) {
  auto r = Request("ai-npm-local", kNpmPath, "1.0.0");
  r.set_name("team-tool");
  auto registered = Register(r);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->server().display_name(), "npm:ai-npm-local:team-tool");
}

TEST_F(RegisterHandlerTest, AVersionThePackageDoesNotHaveIsRefused) {
  auto wrong = Register(Request("ai-npm-local", kNpmPath, "2.0.0"));
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(wrong.status().message()),
              StartsWith("mcpServerInfo.version: '2.0.0' does not match the "
                         "package's own version '1.0.0'"));
  EXPECT_TRUE(Audited("register").empty());  // nothing written
}

TEST_F(RegisterHandlerTest, APackageOfTheOtherTypeIsRefused) {
  // An npm tarball placed in the PyPI repository.
  WriteArtifact("ai-pypi-local", "misplaced/simple-mcp-1.0.0.tgz",
                storage::BuildNpmTarball("simple-mcp", "1.0.0", "demo"));
  auto wrong = Register(
      Request("ai-pypi-local", "misplaced/simple-mcp-1.0.0.tgz", "1.0.0"));
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong.status().message()),
              HasSubstr("is a npm package"));
  EXPECT_THAT(std::string(wrong.status().message()),
              HasSubstr("holds pypi packages"));
}

TEST_F(RegisterHandlerTest, RepositoriesMustBeLocalNpmOrPypiAndInTheProject) {
  Grant("ci-bot", "READ", "remote-npm");
  Grant("ci-bot", "READ", "docker-local");
  Grant("ci-bot", "READ", "other-npm-local");
  struct Case {
    const char* repo;
    const char* says;
  };
  for (const Case& c : {Case{"remote-npm", "is a remote repository"},
                        Case{"docker-local", "holds docker packages"},
                        Case{"other-npm-local", "belongs to 'other'"}}) {
    auto r = Register(Request(c.repo, kNpmPath, "1.0.0"));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition)
        << c.repo;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.says));
  }
  Grant("ci-bot", "READ", "no-such-local");
  auto missing = Register(Request("no-such-local", kNpmPath, "1.0.0"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegisterHandlerTest, AMissingArtifactOrReadmeIsNotFoundNamingTheField) {
  auto no_artifact = Register(Request("ai-npm-local", "nope.tgz", "1.0.0"));
  EXPECT_EQ(no_artifact.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_artifact.status().message()),
              StartsWith("repoArtifactInfo.repoPath"));
  auto r = Request("ai-npm-local", kNpmPath, "1.0.0");
  r.mutable_repo_artifact_info()->set_readme_path("org/README.md");
  auto no_readme = Register(r);
  EXPECT_EQ(no_readme.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_readme.status().message()),
              StartsWith("repoArtifactInfo.readmePath"));
}

TEST_F(RegisterHandlerTest, RefusalsAreAuditedWithWhoAndWhy) {
  const std::string reader = TokenFor("reader");
  Grant("reader", "READ", "ai-npm-local");  // READ, but no ALLOW
  auto denied = Register(Request("ai-npm-local", kNpmPath, "1.0.0"), reader);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  auto anonymous = Register(Request("ai-npm-local", kNpmPath, "1.0.0"), "");
  EXPECT_EQ(anonymous.status().code(), absl::StatusCode::kUnauthenticated);
  const auto rows = Audited("register");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].actor, "reader");
  EXPECT_EQ(rows[0].decision, "DENY");
  EXPECT_EQ(rows[0].project_key, "ai-research");
  EXPECT_THAT(rows[0].reason, HasSubstr("ALLOW"));
  EXPECT_EQ(rows[1].actor, "anonymous");
  EXPECT_EQ(rows[1].decision, "DENY");
  // ALLOW without READ on the repository is refused too, naming it.
  const std::string allower = TokenFor("allower");
  Grant("allower", "ALLOW", "ai-research");
  auto no_read = Register(Request("ai-npm-local", kNpmPath, "1.0.0"), allower);
  EXPECT_EQ(no_read.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(no_read.status().message()),
              HasSubstr("ai-npm-local"));
  EXPECT_EQ(Audited("register").size(), 3u);
}

TEST_F(RegisterHandlerTest, AnIdenticalRetryIsNotCreatedAndNotAuditedAgain) {
  auto first = Register(Request("ai-npm-local", kNpmPath, "1.0.0"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created());
  auto retry = Register(Request("ai-npm-local", kNpmPath, "1.0.0"));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->created());
  EXPECT_EQ(retry->version(), "1.0.0");
  ASSERT_EQ(Audited("register").size(), 1u);
  EXPECT_EQ(Audited("register")[0].decision, "ALLOW");
  EXPECT_THAT(Audited("register")[0].details_json, HasSubstr("\"sha256\""));
  // The same version with other metadata is a conflict, not a retry.
  auto changed = Request("ai-npm-local", kNpmPath, "1.0.0");
  changed.mutable_mcp_server_info()->set_description("changed");
  EXPECT_EQ(Register(changed).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RegisterHandlerTest, ValidationComesFirstAndNamesTheField) {
  auto r = Request("ai-npm-local", kNpmPath, "1.0.0");
  r.mutable_mcp_server_info()->add_runtime_arguments()->set_name("--port");
  r.mutable_mcp_server_info()->mutable_runtime_arguments(0)->set_type("int");
  r.mutable_mcp_server_info()->mutable_runtime_arguments(0)->set_default_value(
      "80.5");
  // Even an anonymous caller learns what is wrong with the body, and
  // nothing is audited for a request that never reached a permission.
  auto bad = Register(r, "");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              StartsWith("mcpServerInfo.runtimeArguments[0].defaultValue"));
  EXPECT_TRUE(Audited("register").empty());
}

}  // namespace
}  // namespace mcpreg::testing
