#include "plugin/src/handlers/server_access.h"

#include "absl/strings/str_cat.h"
#include "plugin/src/validation/register_validation.h"

namespace mcpreg {

absl::Status CheckToolName(const std::string& tool, absl::string_view field) {
  if (tool.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  }
  if (tool.size() > policy::kMaxToolNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", policy::kMaxToolNameBytes, " bytes"));
  }
  // A NUL would be judged by the policy whole but stored cut short.
  if (HasControlCharacter(tool)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must not contain control characters"));
  }
  return absl::OkStatus();
}

namespace {

absl::Status ValidateServerRef(const std::string& project_key,
                               const std::string& server,
                               absl::string_view project_field,
                               absl::string_view server_field) {
  if (absl::Status s = ValidateProjectKey(project_key, project_field);
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
  return absl::OkStatus();
}

// ALLOW is on the project; READ is on the server's repository.
const std::string& ResourceOf(const ServerAccess& access,
                              authz::Permission permission) {
  return permission == authz::Permission::kAllow
             ? access.project_key
             : access.server->server.repo_key;
}

}  // namespace

std::optional<ServerAccess> OpenServerFromCaches(
    RegistryDependencies& deps, const CallScope& scope,
    const std::string& request_project, const std::string& server,
    authz::Permission permission) {
  ServerAccess access;
  access.project_key = scope.ProjectKey(request_project);
  // Field names do not matter: an invalid request goes the blocking way,
  // which words the error.
  if (!ValidateServerRef(access.project_key, server, "", "").ok()) {
    return std::nullopt;
  }
  std::optional<authz::Principal> principal =
      deps.authorizer->CachedPrincipal(scope.metadata());
  if (!principal.has_value()) return std::nullopt;
  access.principal = *std::move(principal);
  access.server = deps.policy_cache->Find(access.project_key, server);
  if (access.server == nullptr ||
      !deps.authorizer->CachedHolds(access.principal, permission,
                                    ResourceOf(access, permission))) {
    return std::nullopt;
  }
  return access;
}

absl::Status UnknownServer(const std::string& project_key,
                           const std::string& server,
                           absl::string_view server_field) {
  return absl::NotFoundError(absl::StrCat(server_field, ": no server named '",
                                          server, "' in project '", project_key,
                                          "' that you may read"));
}

absl::StatusOr<ServerAccess> OpenServerForCaller(
    RegistryDependencies& deps, CallScope& scope,
    const std::string& request_project, const std::string& server,
    absl::string_view project_field, absl::string_view server_field,
    authz::Permission permission) {
  ServerAccess access;
  access.project_key = scope.ProjectKey(request_project);
  if (absl::Status s = ValidateServerRef(access.project_key, server,
                                         project_field, server_field);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<authz::Principal> principal =
      scope.Authenticate(access.project_key, server);
  if (!principal.ok()) return principal.status();
  access.principal = *principal;
  // ALLOW is on the project, which the caller named: asked before the
  // server is looked up, so the answer says nothing about the server.
  if (permission == authz::Permission::kAllow) {
    if (absl::Status st =
            scope.Require(access.principal, permission, access.project_key,
                          access.project_key, server);
        !st.ok()) {
      return st;
    }
  }
  absl::StatusOr<std::shared_ptr<const CachedServerPolicy>> found =
      deps.policy_cache->Get(access.project_key, server, scope.deadline());
  if (found.status().code() == absl::StatusCode::kNotFound) {
    return UnknownServer(access.project_key, server, server_field);
  }
  if (!found.ok()) return found.status();
  access.server = *found;
  if (permission == authz::Permission::kRead) {
    // A caller who may not read the server learns no more than for a
    // server that does not exist: the same code, the same words, and no
    // repository name. The refusal itself is audited, with its reason.
    absl::Status st = scope.Require(
        access.principal, permission, access.server->server.repo_key,
        access.project_key, access.server->server.display_name);
    if (st.code() == absl::StatusCode::kPermissionDenied) {
      return UnknownServer(access.project_key, server, server_field);
    }
    if (!st.ok()) return st;
  }
  return access;
}

}  // namespace mcpreg
