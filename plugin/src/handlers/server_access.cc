#include "handlers/server_access.h"

#include "absl/strings/str_cat.h"
#include "validation/register_validation.h"

namespace mcpreg {

absl::StatusOr<ServerAccess> OpenServerForCaller(
    RegistryServices& services, CallScope& scope,
    const std::string& request_project, const std::string& server,
    absl::string_view project_field, absl::string_view server_field,
    authz::Permission permission) {
  ServerAccess access;
  access.project_key = scope.ProjectKey(request_project);
  if (absl::Status s = ValidateProjectKey(access.project_key, project_field);
      !s.ok()) {
    return s;
  }
  if (server.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(server_field, ": is required"));
  }
  if (server.size() > 512) {
    return absl::InvalidArgumentError(
        absl::StrCat(server_field, ": at most 512 bytes"));
  }
  if (HasControlCharacter(server)) {
    return absl::InvalidArgumentError(
        absl::StrCat(server_field, ": must not contain control characters"));
  }
  absl::StatusOr<authz::Principal> principal =
      scope.Authenticate(access.project_key, server);
  if (!principal.ok()) return principal.status();
  access.principal = *principal;
  absl::StatusOr<std::shared_ptr<const CachedServerPolicy>> found =
      services.policy_cache->Get(access.project_key, server, scope.deadline());
  if (!found.ok()) return found.status();
  access.server = *found;
  const storage::pg::ServerPolicy& s = access.server->server;
  // ALLOW is on the project; READ is on the server's repository.
  const std::string& resource =
      permission == authz::Permission::kAllow ? access.project_key : s.repo_key;
  if (absl::Status st = scope.Require(access.principal, permission, resource,
                                      access.project_key, s.display_name);
      !st.ok()) {
    return st;
  }
  return access;
}

}  // namespace mcpreg
