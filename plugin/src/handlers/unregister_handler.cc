// UnregisterCustomServer: removes the metadata and policies in one
// transaction; the artifact stays in storage.
#include "absl/strings/str_cat.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/server_handlers.h"
#include "plugin/src/validation/register_validation.h"

namespace mcpreg {

absl::StatusOr<v1::UnregisterCustomServerResponse> HandleUnregisterCustomServer(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::UnregisterCustomServerRequest& request) {
  CallScope scope(deps, ctx, "unregister");
  const std::string project = scope.ProjectKey(request.project_key());
  if (absl::Status s = ValidateProjectKey(project, "projectKey"); !s.ok()) {
    return s;
  }
  if (request.name().empty()) {
    return absl::InvalidArgumentError("name: is required");
  }
  if (request.name().size() > 512) {
    return absl::InvalidArgumentError("name: at most 512 bytes");
  }
  absl::StatusOr<authz::Principal> principal =
      scope.AuthenticateWithAllow(project, request.name());
  if (!principal.ok()) return principal.status();
  absl::StatusOr<storage::UnregisterResult> removed = deps.servers->Unregister(
      project, request.name(), scope.Audit(*principal, project, ""),
      scope.deadline());
  if (!removed.ok()) return removed.status();
  // At once on this replica (others drop it when the NOTIFY arrives): a
  // check answered from the cache after this reply must not find the old
  // policy, nor may a server registered again under the name inherit it.
  deps.policy_cache->Invalidate(removed->server_id);
  v1::UnregisterCustomServerResponse response;
  response.set_name(removed->name);
  response.set_display_name(removed->display_name);
  response.set_versions_removed(removed->versions_removed);
  return response;
}

}  // namespace mcpreg
