// SetToolPolicy and GetToolPolicy.
#include "absl/strings/str_cat.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/governance_handlers.h"
#include "plugin/src/handlers/server_access.h"

namespace mcpreg {

absl::StatusOr<v1::ToolPolicy> HandleSetToolPolicy(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::SetToolPolicyRequest& request) {
  CallScope scope(deps, ctx, "policy.set");
  if (!request.has_policy()) {
    return absl::InvalidArgumentError("policy: is required");
  }
  const v1::ToolPolicy& policy = request.policy();
  // Compile first: a bad pattern is the caller's mistake whatever their
  // permissions, and nothing is looked up or written for it.
  absl::StatusOr<std::shared_ptr<const policy::CompiledPolicy>> compiled =
      CompileToolPolicy(policy, "policy.");
  if (!compiled.ok()) return compiled.status();
  absl::StatusOr<ServerAccess> access = OpenServerForCaller(
      deps, scope, policy.project_key(), policy.server(), "policy.projectKey",
      "policy.server", authz::Permission::kAllow);
  if (!access.ok()) return access.status();
  const storage::ServerPolicy& server = access->server->server;

  storage::AuditEvent audit =
      scope.Audit(access->principal, access->project_key, server.display_name);
  audit.reason = absl::StrCat(v1::ToolPolicy::Mode_Name(policy.mode()), ", ",
                              policy.entries_size(), " entries");
  absl::StatusOr<v1::ToolPolicy> stored = deps.policies->Set(
      server, policy, access->principal.name, audit, scope.deadline());
  if (!stored.ok()) return stored.status();
  // Read-your-writes on this replica; the NOTIFY reaches the others.
  deps.policy_cache->Invalidate(server.server_id);
  return stored;
}

absl::StatusOr<v1::ToolPolicy> HandleGetToolPolicy(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::GetToolPolicyRequest& request) {
  CallScope scope(deps, ctx, "policy.get");
  absl::StatusOr<ServerAccess> access =
      OpenServerForCaller(deps, scope, request.project_key(), request.server(),
                          "projectKey", "server", authz::Permission::kRead);
  if (!access.ok()) return access.status();
  const storage::ServerPolicy& server = access->server->server;
  if (!server.policy.has_value()) {
    return absl::NotFoundError(absl::StrCat(
        server.display_name,
        " has no tool policy, so no tool of it is allowed (zero trust); set "
        "one with SetToolPolicy"));
  }
  return *server.policy;
}

}  // namespace mcpreg
