// CheckToolCall and FilterTools: the hot path. The server and its compiled
// policy come from the cache; the audit row is group-committed and durable
// before the answer, and a check whose audit row is not confirmed fails
// (closed) rather than answering unaudited.
#include "absl/strings/str_cat.h"
#include "handlers/call_scope.h"
#include "handlers/governance_handlers.h"
#include "handlers/server_access.h"

namespace mcpreg {
namespace {

constexpr int kMaxFilterTools = 1000;

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

policy::Decision Decide(const CachedServerPolicy& server,
                        const std::string& tool) {
  return server.compiled == nullptr ? policy::NoPolicyDecision()
                                    : server.compiled->Check(tool);
}

}  // namespace

absl::StatusOr<v1::CheckToolCallResponse> HandleCheckToolCall(
    RegistryServices& services, const sdk::CallContext& ctx,
    const v1::CheckToolCallRequest& request) {
  CallScope scope(services, ctx, "tool.check");
  if (absl::Status s = CheckToolName(request.tool(), "tool"); !s.ok()) {
    return s;
  }
  absl::StatusOr<ServerAccess> access = OpenServerForCaller(
      services, scope, request.project_key(), request.server(), "projectKey",
      "server", authz::Permission::kRead);
  if (!access.ok()) return access.status();
  const CachedServerPolicy& server = *access->server;
  const policy::Decision decision = Decide(server, request.tool());

  storage::pg::AuditEvent audit = scope.Audit(
      access->principal, access->project_key, server.server.display_name);
  audit.tool = request.tool();
  audit.decision = decision.allowed ? "ALLOW" : "DENY";
  audit.reason = decision.reason;
  if (absl::Status s = services.audit_batcher->Append(audit, scope.deadline());
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("the check could not be "
                                               "audited, so it is not "
                                               "answered: ",
                                               s.message()));
  }
  v1::CheckToolCallResponse response;
  response.set_allowed(decision.allowed);
  response.set_reason(decision.reason);
  response.set_entry_index(decision.entry_index);
  response.set_display_name(server.server.display_name);
  if (decision.entry_index >= 0 && server.server.policy.has_value() &&
      decision.entry_index < server.server.policy->entries_size()) {
    *response.mutable_entry() =
        server.server.policy->entries(decision.entry_index);
  }
  return response;
}

absl::StatusOr<v1::FilterToolsResponse> HandleFilterTools(
    RegistryServices& services, const sdk::CallContext& ctx,
    const v1::FilterToolsRequest& request) {
  CallScope scope(services, ctx, "tool.filter");
  if (request.tools_size() > kMaxFilterTools) {
    return absl::InvalidArgumentError(
        absl::StrCat("tools: at most ", kMaxFilterTools));
  }
  for (int i = 0; i < request.tools_size(); ++i) {
    if (absl::Status s =
            CheckToolName(request.tools(i), absl::StrCat("tools[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<ServerAccess> access = OpenServerForCaller(
      services, scope, request.project_key(), request.server(), "projectKey",
      "server", authz::Permission::kRead);
  if (!access.ok()) return access.status();
  v1::FilterToolsResponse response;
  for (const std::string& tool : request.tools()) {
    // The same decision CheckToolCall would give, tool by tool.
    if (Decide(*access->server, tool).allowed) {
      response.add_allowed_tools(tool);
    } else {
      response.add_denied_tools(tool);
    }
  }
  storage::pg::AuditEvent audit =
      scope.Audit(access->principal, access->project_key,
                  access->server->server.display_name);
  audit.reason = absl::StrCat(response.allowed_tools_size(), " of ",
                              request.tools_size(), " tools allowed");
  if (absl::Status s = services.audit_batcher->Append(audit, scope.deadline());
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("the filter could not be "
                                               "audited, so it is not "
                                               "answered: ",
                                               s.message()));
  }
  return response;
}

}  // namespace mcpreg
