// Policies and checks without a database: zero trust, the audit row of
// every decision, a check that cannot be audited fails closed, and a policy
// that does not compile changes nothing.
#include "plugin/src/handlers/governance_handlers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugin/src/handlers/register_handler.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/handler_harness.h"

namespace mcpreg::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class GovernanceHandlersTest : public HandlerTest {
 protected:
  GovernanceHandlersTest() {
    admin_ = TokenFor("root");
    Grant("root", "ADMIN", "");
    agent_ = TokenFor("agent");
    Grant("agent", "READ", "ai-npm-local");
    WriteArtifact("ai-npm-local", "simple-mcp-1.0.0.tgz",
                  storage::BuildNpmTarball("simple-mcp", "1.0.0", "demo"));
    v1::RegisterCustomServerRequest r;
    r.set_project_key("ai-research");
    r.mutable_repo_artifact_info()->set_repo_key("ai-npm-local");
    r.mutable_repo_artifact_info()->set_repo_path("simple-mcp-1.0.0.tgz");
    r.mutable_mcp_server_info()->set_description("demo");
    r.mutable_mcp_server_info()->set_version("1.0.0");
    EXPECT_TRUE(HandleRegisterCustomServer(deps_, *Call(admin_), r).ok());
  }

  absl::StatusOr<v1::CheckToolCallResponse> Check(const std::string& tool) {
    v1::CheckToolCallRequest r;
    r.set_server("simple-mcp");
    r.set_tool(tool);
    return Await<v1::CheckToolCallResponse>(&HandleCheckToolCall,
                                            *Call(agent_, "ai-research"), r);
  }
  absl::StatusOr<v1::ToolPolicy> SetPolicy(v1::ToolPolicy::Mode mode,
                                           const std::string& pattern = "",
                                           bool regex = false) {
    v1::SetToolPolicyRequest r;
    r.mutable_policy()->set_server("simple-mcp");
    r.mutable_policy()->set_mode(mode);
    if (!pattern.empty()) {
      auto* e = r.mutable_policy()->add_entries();
      e->set_pattern(pattern);
      e->set_is_regex(regex);
    }
    return HandleSetToolPolicy(deps_, *Call(admin_, "ai-research"), r);
  }

  std::string admin_, agent_;
};

TEST_F(GovernanceHandlersTest, NoPolicyMeansNoToolAndEveryDecisionIsAudited) {
  auto denied = Check("echo");
  ASSERT_TRUE(denied.ok()) << denied.status();
  EXPECT_FALSE(denied->allowed());
  ASSERT_TRUE(SetPolicy(v1::ToolPolicy::ALLOW_LIST, "read_.*", true).ok());
  auto allowed = Check("read_file");
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_TRUE(allowed->allowed());
  EXPECT_EQ(allowed->entry_index(), 0);
  const auto rows = Audited("tool.check");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].tool, "echo");
  EXPECT_EQ(rows[0].decision, "DENY");
  EXPECT_EQ(rows[0].actor, "agent");
  EXPECT_EQ(rows[0].server, "npm:ai-npm-local:simple-mcp");
  EXPECT_EQ(rows[1].tool, "read_file");
  EXPECT_EQ(rows[1].decision, "ALLOW");
}

TEST_F(GovernanceHandlersTest, ACheckThatCannotBeAuditedIsNotAnswered) {
  ASSERT_TRUE(SetPolicy(v1::ToolPolicy::ALLOW_ALL).ok());
  audit_->set_fail_with(absl::UnavailableError("database down"));
  auto check = Check("echo");
  EXPECT_EQ(check.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(check.status().message()),
              HasSubstr("could not be audited"));
}

TEST_F(GovernanceHandlersTest, APolicyThatDoesNotCompileChangesNothing) {
  auto bad = SetPolicy(v1::ToolPolicy::ALLOW_LIST, "a(", true);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("policy.entries[0].pattern"));
  EXPECT_TRUE(Audited("policy.set").empty());
  auto still_denied = Check("a(");
  ASSERT_TRUE(still_denied.ok());
  EXPECT_FALSE(still_denied->allowed());
}

TEST_F(GovernanceHandlersTest, SettingAPolicyNeedsAllowAndAnswersWhatIsStored) {
  v1::SetToolPolicyRequest r;
  r.mutable_policy()->set_server("simple-mcp");
  r.mutable_policy()->set_mode(v1::ToolPolicy::ALLOW_ALL);
  auto denied = HandleSetToolPolicy(deps_, *Call(agent_, "ai-research"), r);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  auto set = SetPolicy(v1::ToolPolicy::DENY_LIST, "rm");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->updated_by(), "root");
  EXPECT_EQ(set->display_name(), "npm:ai-npm-local:simple-mcp");
  const auto rows = Audited("policy.set");
  ASSERT_EQ(rows.size(), 2u);  // the refusal, then the change
  EXPECT_EQ(rows[0].decision, "DENY");
  EXPECT_EQ(rows[1].decision, "ALLOW");
  EXPECT_FALSE(Check("rm")->allowed());
  EXPECT_TRUE(Check("ls")->allowed());
}

TEST_F(GovernanceHandlersTest, FilterKeepsTheOrderAndAgreesWithCheck) {
  ASSERT_TRUE(SetPolicy(v1::ToolPolicy::DENY_LIST, "rm_.*", true).ok());
  v1::FilterToolsRequest r;
  r.set_server("simple-mcp");
  for (const char* t : {"ls", "rm_rf", "cat", "rm_x"}) r.add_tools(t);
  auto filtered = Await<v1::FilterToolsResponse>(
      &HandleFilterTools, *Call(agent_, "ai-research"), r);
  ASSERT_TRUE(filtered.ok()) << filtered.status();
  EXPECT_THAT(filtered->allowed_tools(), ElementsAre("ls", "cat"));
  EXPECT_THAT(filtered->denied_tools(), ElementsAre("rm_rf", "rm_x"));
  for (const std::string& tool : filtered->denied_tools()) {
    EXPECT_FALSE(Check(tool)->allowed()) << tool;
  }
}

}  // namespace
}  // namespace mcpreg::testing
