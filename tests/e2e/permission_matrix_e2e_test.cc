// No existence oracle: every per-server RPC, asked by callers with no
// grant, READ on the repository, ALLOW on the project, or ADMIN, about a
// server of their own project or of another, that exists or does not. A
// caller who may not read a server gets the same answer as for a server that
// does not exist, and no message names a repository or a path it may not
// see. Real host, real PostgreSQL, real gRPC.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "mcpreg/v1/admin.grpc.pb.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "storage/repo/repository_store.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/shared_registry_test.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PermissionMatrixTest : public SharedRegistryTest<PermissionMatrixTest> {
 protected:
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token,
                                           const std::string& project) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->AddMetadata("jfrog-project-key", project);
    return ctx;
  }
  std::string TokenFor(
      const std::string& principal,
      const std::vector<std::pair<std::string, std::string>>& grants) {
    auto admin = v1::McpRegistryAdmin::NewStub(*channel_);
    v1::CreateTokenRequest create;
    create.set_principal(principal);
    v1::CreateTokenResponse token;
    EXPECT_TRUE(
        admin
            ->CreateToken(Ctx(server_->admin_token(), "").get(), create, &token)
            .ok());
    for (const auto& [permission, resource] : grants) {
      v1::GrantPermissionRequest g;
      g.mutable_grant()->set_principal(principal);
      g.mutable_grant()->set_permission(permission);
      g.mutable_grant()->set_resource(resource);
      v1::GrantPermissionResponse out;
      EXPECT_TRUE(
          admin->GrantPermission(Ctx(server_->admin_token(), "").get(), g, &out)
              .ok());
    }
    return token.token();
  }
  void Register(const std::string& project, const std::string& repo,
                const std::string& path) {
    v1::RegisterCustomServerRequest r;
    r.set_project_key(project);
    r.mutable_repo_artifact_info()->set_repo_key(repo);
    r.mutable_repo_artifact_info()->set_repo_path(path);
    r.mutable_mcp_server_info()->set_description("matrix");
    r.mutable_mcp_server_info()->set_version("1.0.0");
    v1::RegisterCustomServerResponse out;
    grpc::Status s = v1::McpRegistry::NewStub(*channel_)->RegisterCustomServer(
        Ctx(server_->admin_token(), project).get(), r, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
};

using Rpc = std::function<grpc::Status(
    v1::McpRegistry::Stub&, grpc::ClientContext*, const std::string& server)>;

std::map<std::string, Rpc> PerServerRpcs() {
  return {
      {"GetServer",
       [](auto& stub, auto* ctx, const std::string& server) {
         v1::GetServerRequest r;
         r.set_name(server);
         v1::Server out;
         return stub.GetServer(ctx, r, &out);
       }},
      {"GetToolPolicy",
       [](auto& stub, auto* ctx, const std::string& server) {
         v1::GetToolPolicyRequest r;
         r.set_server(server);
         v1::ToolPolicy out;
         return stub.GetToolPolicy(ctx, r, &out);
       }},
      {"SetToolPolicy",
       [](auto& stub, auto* ctx, const std::string& server) {
         v1::SetToolPolicyRequest r;
         r.mutable_policy()->set_server(server);
         r.mutable_policy()->set_mode(v1::ToolPolicy::DENY_LIST);
         r.mutable_policy()->add_entries()->set_pattern("rm");
         v1::ToolPolicy out;
         return stub.SetToolPolicy(ctx, r, &out);
       }},
      {"CheckToolCall",
       [](auto& stub, auto* ctx, const std::string& server) {
         v1::CheckToolCallRequest r;
         r.set_server(server);
         r.set_tool("echo");
         v1::CheckToolCallResponse out;
         return stub.CheckToolCall(ctx, r, &out);
       }},
      {"FilterTools",
       [](auto& stub, auto* ctx, const std::string& server) {
         v1::FilterToolsRequest r;
         r.set_server(server);
         r.add_tools("echo");
         v1::FilterToolsResponse out;
         return stub.FilterTools(ctx, r, &out);
       }},
      {"GetClientConfig",
       [](auto& stub, auto* ctx, const std::string& server) {
         v1::GetClientConfigRequest r;
         r.set_server(server);
         r.set_client("cursor");
         v1::ClientConfig out;
         return stub.GetClientConfig(ctx, r, &out);
       }},
      {"FetchArtifact",
       [](auto& stub, auto* ctx, const std::string& server) {
         v1::FetchArtifactRequest r;
         r.set_server(server);
         r.set_metadata_only(true);
         v1::FetchArtifactResponse out;
         return stub.FetchArtifact(ctx, r, &out);
       }},
      {"UnregisterCustomServer",
       [](auto& stub, auto* ctx, const std::string& server) {
         v1::UnregisterCustomServerRequest r;
         r.set_name(server);
         v1::UnregisterCustomServerResponse out;
         return stub.UnregisterCustomServer(ctx, r, &out);
       }},
  };
}

TEST_F(PermissionMatrixTest, WhatACallerMayNotReadLooksLikeNothing) {
  // A second project with a server of its own.
  auto admin = v1::McpRegistryAdmin::NewStub(*channel_);
  v1::CreateRepositoryRequest repo;
  repo.mutable_repository()->set_key("other-npm-local");
  repo.mutable_repository()->set_package_type("npm");
  repo.mutable_repository()->set_repo_class("local");
  repo.mutable_repository()->set_project_key("other");
  v1::Repository created;
  ASSERT_TRUE(admin
                  ->CreateRepository(Ctx(server_->admin_token(), "").get(),
                                     repo, &created)
                  .ok());
  auto storage =
      storage::NewFilesystemRepositoryStore(server_->home() + "/storage");
  ASSERT_TRUE(storage.ok());
  ASSERT_TRUE(
      (*storage)
          ->WriteArtifact("other-npm-local", "secret/path/other.tgz",
                          storage::BuildNpmTarball("other-tool", "1.0.0", "x"))
          .ok());
  Register("ai-research", "ai-npm-local",
           "org/project/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz");
  Register("other", "other-npm-local", "secret/path/other.tgz");

  struct Caller {
    std::string name, token;
    // Whether it may read each project's existing server.
    bool reads_own, reads_foreign, allow_own;
  };
  const std::vector<Caller> callers = {
      {"nobody", TokenFor("nobody", {}), false, false, false},
      {"reader", TokenFor("reader", {{"READ", "ai-npm-local"}}), true, false,
       false},
      {"allower", TokenFor("allower", {{"ALLOW", "ai-research"}}), false, false,
       true},
      {"admin", server_->admin_token(), true, true, true},
  };
  struct Target {
    std::string project, existing;
  };
  const std::vector<Target> targets = {{"ai-research", "simple-mcp"},
                                       {"other", "other-tool"}};
  auto stub = v1::McpRegistry::NewStub(*channel_);
  int compared = 0;
  for (const auto& [rpc_name, rpc] : PerServerRpcs()) {
    for (const Caller& caller : callers) {
      for (const Target& target : targets) {
        const bool own = target.project == "ai-research";
        const bool reads = own ? caller.reads_own : caller.reads_foreign;
        const bool allowed =
            caller.name == "admin" || (own && caller.allow_own);
        if (rpc_name == "UnregisterCustomServer" && allowed) continue;
        SCOPED_TRACE(absl::StrCat(rpc_name, " by ", caller.name, " in ",
                                  target.project));
        const grpc::Status existing = rpc(
            *stub, Ctx(caller.token, target.project).get(), target.existing);
        const grpc::Status missing =
            rpc(*stub, Ctx(caller.token, target.project).get(), "ghost");
        // Nothing a caller may not read reaches its messages.
        for (const grpc::Status* s : {&existing, &missing}) {
          if (reads) continue;
          EXPECT_THAT(s->error_message(), Not(HasSubstr("-npm-local")));
          EXPECT_THAT(s->error_message(), Not(HasSubstr("secret/path")));
          EXPECT_THAT(s->error_message(), Not(HasSubstr("org/project")));
        }
        if (reads || (rpc_name == "SetToolPolicy" && allowed)) continue;
        // Same code, same words (but for the name asked about).
        EXPECT_NE(existing.error_code(), grpc::StatusCode::OK);
        EXPECT_EQ(existing.error_code(), missing.error_code());
        EXPECT_EQ(absl::StrReplaceAll(existing.error_message(),
                                      {{target.existing, "ghost"}}),
                  missing.error_message());
        ++compared;
      }
    }
  }
  EXPECT_GE(compared, 30);
  // And a caller who may read gets on with it.
  EXPECT_TRUE(
      PerServerRpcs()["GetServer"](
          *stub, Ctx(callers[1].token, "ai-research").get(), "simple-mcp")
          .ok());
}

}  // namespace
}  // namespace mcpreg::testing
