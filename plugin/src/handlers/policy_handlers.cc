// SetToolPolicy, GetToolPolicy and TestToolPolicy.
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
  audit.reason = absl::StrCat(
      v1::ToolPolicy::Mode_Name(policy.mode()), ", ", policy.entries_size(),
      " entries",
      policy.pin_definitions()
          ? (policy.trust_on_first_use()
                 ? ", definitions pinned (trust on first use)"
                 : ", definitions pinned")
          : "",
      policy.audit_argument_values() ? ", argument values audited" : "");
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

absl::StatusOr<v1::TestToolPolicyResponse> HandleTestToolPolicy(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::TestToolPolicyRequest& request) {
  constexpr int kMaxTools = 100;
  if (!request.has_policy()) {
    return absl::InvalidArgumentError("policy: is required");
  }
  if (request.tools_size() > kMaxTools) {
    return absl::InvalidArgumentError(
        absl::StrCat("tools: at most ", kMaxTools, " names"));
  }
  for (int i = 0; i < request.tools_size(); ++i) {
    if (absl::Status s =
            CheckToolName(request.tools(i), absl::StrCat("tools[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  // Only a caller the registry knows may have patterns compiled for it.
  CallScope scope(deps, ctx, "policy.test");
  absl::StatusOr<authz::Principal> principal = scope.Authenticate("", "");
  if (!principal.ok()) return principal.status();
  absl::StatusOr<std::shared_ptr<const policy::CompiledPolicy>> compiled =
      CompileToolPolicy(request.policy(), "policy.");
  if (!compiled.ok()) return compiled.status();
  v1::TestToolPolicyResponse response;
  for (const std::string& tool : request.tools()) {
    const policy::Decision d = (*compiled)->Check(tool);
    v1::ToolDecision& out = *response.add_decisions();
    out.set_tool(tool);
    out.set_allowed(d.allowed);
    out.set_reason(d.reason);
    out.set_entry_index(d.entry_index);
  }
  return response;
}

}  // namespace mcpreg
