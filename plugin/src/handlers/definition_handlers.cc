// ListToolDefinitions, ApproveToolDefinitions and RevokeToolDefinitions: a
// pinned server's reported definitions, reviewed and approved by a person.
#include "absl/strings/str_cat.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/governance_handlers.h"
#include "plugin/src/handlers/server_access.h"
#include "plugin/src/handlers/tool_definitions.h"

namespace mcpreg {
namespace {

constexpr int kMaxApprovals = 1000;

absl::Status NeedsDefinitionStore(const RegistryDependencies& deps) {
  return deps.definitions != nullptr
             ? absl::OkStatus()
             : absl::UnimplementedError(
                   "tool definitions need the registry's database");
}

absl::Status ValidateApproval(const v1::ApproveToolDefinitionsRequest& r) {
  if (r.definitions_size() == 0 && r.version().empty()) {
    return absl::InvalidArgumentError(
        "definitions: name the definitions (tool and digest) or a version");
  }
  if (r.definitions_size() > kMaxApprovals) {
    return absl::InvalidArgumentError(
        absl::StrCat("definitions: at most ", kMaxApprovals, " a call"));
  }
  for (int i = 0; i < r.definitions_size(); ++i) {
    const std::string field = absl::StrCat("definitions[", i, "]");
    if (absl::Status s =
            CheckToolName(r.definitions(i).tool(), field + ".tool");
        !s.ok()) {
      return s;
    }
    if (r.definitions(i).digest().empty()) {
      return absl::InvalidArgumentError(field + ".digest: is required");
    }
    if (absl::Status s =
            ValidateDigest(r.definitions(i).digest(), field + ".digest");
        !s.ok()) {
      return s;
    }
  }
  if (r.version().size() > 128 || HasControlCharacter(r.version())) {
    return absl::InvalidArgumentError(
        "version: at most 128 bytes, without control characters");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ApproveToolDefinitionsResponse> SetApproval(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ApproveToolDefinitionsRequest& request, bool approve) {
  CallScope scope(
      deps, ctx,
      approve ? "tool.definition_approve" : "tool.definition_revoke");
  if (absl::Status s = ValidateApproval(request); !s.ok()) return s;
  if (absl::Status s = NeedsDefinitionStore(deps); !s.ok()) return s;
  absl::StatusOr<ServerAccess> access =
      OpenServerForCaller(deps, scope, request.project_key(), request.server(),
                          "projectKey", "server", authz::Permission::kAllow);
  if (!access.ok()) return access.status();
  const storage::ServerPolicy& server = access->server->server;
  std::vector<storage::DefinitionRef> refs;
  for (const v1::ToolDefinitionRef& ref : request.definitions()) {
    refs.emplace_back(ref.tool(), ref.digest());
  }
  absl::StatusOr<std::vector<v1::ToolDefinitionRecord>> changed =
      deps.definitions->SetApproval(
          server, refs, request.version(), approve, access->principal.name,
          scope.Audit(access->principal, access->project_key,
                      server.display_name),
          scope.deadline());
  if (!changed.ok()) return changed.status();
  // Read-your-writes on this replica; the NOTIFY reaches the others.
  deps.policy_cache->Invalidate(server.server_id);
  v1::ApproveToolDefinitionsResponse response;
  for (v1::ToolDefinitionRecord& r : *changed) {
    *response.add_definitions() = std::move(r);
  }
  return response;
}

}  // namespace

absl::StatusOr<v1::ListToolDefinitionsResponse> HandleListToolDefinitions(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListToolDefinitionsRequest& request) {
  CallScope scope(deps, ctx, "tool.definition_list");
  if (absl::Status s = NeedsDefinitionStore(deps); !s.ok()) return s;
  absl::StatusOr<ServerAccess> access =
      OpenServerForCaller(deps, scope, request.project_key(), request.server(),
                          "projectKey", "server", authz::Permission::kRead);
  if (!access.ok()) return access.status();
  absl::StatusOr<std::vector<v1::ToolDefinitionRecord>> listed =
      deps.definitions->List(access->server->server, scope.deadline());
  if (!listed.ok()) return listed.status();
  v1::ListToolDefinitionsResponse response;
  response.set_display_name(access->server->server.display_name);
  response.set_pin_definitions(access->server->pinned());
  for (v1::ToolDefinitionRecord& r : *listed) {
    *response.add_definitions() = std::move(r);
  }
  return response;
}

absl::StatusOr<v1::ApproveToolDefinitionsResponse> HandleApproveToolDefinitions(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ApproveToolDefinitionsRequest& request) {
  return SetApproval(deps, ctx, request, /*approve=*/true);
}

absl::StatusOr<v1::ApproveToolDefinitionsResponse> HandleRevokeToolDefinitions(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ApproveToolDefinitionsRequest& request) {
  return SetApproval(deps, ctx, request, /*approve=*/false);
}

}  // namespace mcpreg
