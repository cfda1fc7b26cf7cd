#include "tests/support/handler_harness.h"

#include <stdlib.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "authz/access_token.h"
#include "authz/builtin_authorizer.h"

namespace mcpreg::testing {

HandlerTest::HandlerTest() {
  char tmpl[] = "/tmp/mcpreg-handlers-XXXXXX";
  root_ = mkdtemp(tmpl);
  auto audit = std::make_unique<FakeAuditLog>();
  audit_ = audit.get();
  auto servers = std::make_unique<FakeServerStore>(*audit_);
  auto policies = std::make_unique<FakePolicyStore>(*servers, *audit_);
  auto access = std::make_unique<FakeAccessStore>(*audit_);
  servers_ = servers.get();
  policies_ = policies.get();
  access_ = access.get();
  deps_.servers = std::move(servers);
  deps_.policies = std::move(policies);
  deps_.access = std::move(access);
  deps_.audit = std::move(audit);
  deps_.authorizer =
      std::make_unique<authz::BuiltinAuthorizer>(*deps_.access, nullptr);
  deps_.policy_cache = std::make_unique<PolicyCache>(*deps_.policies);
  auto storage = storage::NewFilesystemRepositoryStore(root_);
  EXPECT_TRUE(storage.ok()) << storage.status();
  deps_.repositories = std::move(*storage);
  for (const storage::RepositoryInfo& repo :
       std::vector<storage::RepositoryInfo>{
           {"ai-pypi-local", "pypi", "local", "ai-research"},
           {"ai-npm-local", "npm", "local", "ai-research"},
           {"other-npm-local", "npm", "local", "other"},
           {"remote-npm", "npm", "remote", "ai-research"},
           {"docker-local", "docker", "local", "ai-research"}}) {
    EXPECT_TRUE(deps_.repositories->CreateRepository(repo).ok());
  }
}

HandlerTest::~HandlerTest() {
  deps_.policy_cache.reset();
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

std::string HandlerTest::TokenFor(const std::string& principal) {
  absl::StatusOr<std::string> token = authz::GenerateAccessToken();
  EXPECT_TRUE(token.ok());
  storage::AuditEvent setup;
  setup.action = "test.setup";
  EXPECT_TRUE(access_
                  ->CreateToken(principal, authz::TokenSha256Hex(*token), "",
                                std::nullopt, setup, absl::InfiniteFuture())
                  .ok());
  return *token;
}

void HandlerTest::Grant(const std::string& principal,
                        const std::string& permission,
                        const std::string& resource) {
  storage::AuditEvent setup;
  setup.action = "test.setup";
  EXPECT_TRUE(access_
                  ->Grant(principal, permission, resource, setup,
                          absl::InfiniteFuture())
                  .ok());
}

void HandlerTest::WriteArtifact(const std::string& repo,
                                const std::string& path,
                                const std::string& bytes) {
  EXPECT_TRUE(deps_.repositories->WriteArtifact(repo, path, bytes).ok());
}

std::unique_ptr<sdk::CallContext> HandlerTest::Call(
    const std::string& token, const std::string& project) {
  const std::string authorization = absl::StrCat("Bearer ", token);
  std::vector<mcpreg_metadata_entry> metadata;
  const auto add = [&metadata](const char* key, const std::string& value) {
    metadata.push_back(
        {{key, strlen(key)},
         {reinterpret_cast<const uint8_t*>(value.data()), value.size()}});
  };
  if (!token.empty()) add("authorization", authorization);
  if (!project.empty()) add("jfrog-project-key", project);
  const std::string method = "/mcpreg.v1.McpRegistry/Test";
  const std::string peer = "ipv4:127.0.0.1:1";
  mcpreg_call_info info{};
  info.struct_size = sizeof(info);
  info.method = {method.data(), method.size()};
  info.metadata = metadata.data();
  info.metadata_count = metadata.size();
  info.peer = {peer.data(), peer.size()};
  info.deadline_unix_nanos = absl::ToUnixNanos(absl::Now() + absl::Seconds(10));
  return std::make_unique<sdk::CallContext>(info);
}

std::vector<storage::AuditEvent> HandlerTest::Audited(
    const std::string& action) const {
  std::vector<storage::AuditEvent> out;
  for (const storage::AuditEvent& e : audit_->events()) {
    if (e.action == action) out.push_back(e);
  }
  return out;
}

}  // namespace mcpreg::testing
