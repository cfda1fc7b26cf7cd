// GetServer: one server with every version, and the latest README text.
#include "absl/strings/str_cat.h"
#include "handlers/call_scope.h"
#include "handlers/server_handlers.h"
#include "validation/register_validation.h"

namespace mcpreg {
namespace {

// READMEs are shown, not archived: a bounded read is plenty.
constexpr size_t kMaxReadmeBytes = 256 * 1024;

}  // namespace

absl::StatusOr<v1::Server> HandleGetServer(
    RegistryServices& services, const sdk::CallContext& ctx,
    const v1::GetServerRequest& request) {
  CallScope scope(services, ctx, "get");
  const std::string project = scope.ProjectKey(request.project_key());
  if (absl::Status s = ValidateProjectKey(project, "projectKey"); !s.ok()) {
    return s;
  }
  if (request.name().empty()) {
    return absl::InvalidArgumentError("name: is required");
  }
  absl::StatusOr<authz::Principal> principal =
      scope.Authenticate(project, request.name());
  if (!principal.ok()) return principal.status();
  absl::StatusOr<v1::Server> server =
      services.servers->Get(project, request.name(), scope.deadline());
  if (!server.ok()) return server.status();
  if (absl::Status s =
          scope.Require(*principal, authz::Permission::kRead,
                        server->repo_key(), project, server->display_name());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::shared_ptr<const CachedServerPolicy>> policy =
      services.policy_cache->Get(project, server->display_name(),
                                 scope.deadline());
  if (!policy.ok()) return policy.status();
  if ((*policy)->server.policy.has_value()) {
    *server->mutable_tool_policy() = *(*policy)->server.policy;
  }
  for (v1::ServerVersion& v : *server->mutable_versions()) {
    if (v.version() != server->latest_version() ||
        v.artifact().readme_path().empty()) {
      continue;
    }
    absl::StatusOr<std::string> readme = services.repositories->ReadArtifact(
        v.artifact().repo_key(), v.artifact().readme_path(), kMaxReadmeBytes);
    // A README removed from storage since registration is not an error.
    if (readme.ok()) v.set_readme(*readme);
  }
  return server;
}

}  // namespace mcpreg
