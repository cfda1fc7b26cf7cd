// CheckToolCall and FilterTools: the hot path. The server and its compiled
// policy come from the cache; the audit row is group-committed and durable
// before the answer, and a check whose audit row is not confirmed fails
// (closed) rather than answering unaudited. The answer is sent from the audit
// writer once the row's batch commits: the worker that decided is free at
// once, instead of sleeping through the commit and being woken to answer.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

// Answers a refusal at once. Otherwise appends `audit` and answers the
// response once it has committed — or, if it could not be, or only after
// the call's deadline, the reason, prefixed with `what` ("the check").
template <typename Response>
void AnswerOnceAudited(RegistryServices& services, const CallScope& scope,
                       absl::StatusOr<Response> decided,
                       const storage::pg::AuditEvent& audit,
                       absl::string_view what, sdk::Reply<Response> reply) {
  if (!decided.ok()) {
    reply(decided.status());
    return;
  }
  services.audit_batcher->AppendAsync(
      audit, [what = std::string(what), response = *std::move(decided),
              deadline = scope.deadline(), reply](const absl::Status& written) {
        if (written.ok() && absl::Now() > deadline) {
          // The host has most likely answered already; one that does not
          // bound calls itself still must not get a late answer.
          reply(absl::DeadlineExceededError(absl::StrCat(
              what, "'s audit row was committed only after the deadline")));
          return;
        }
        if (written.ok()) {
          reply(response);
          return;
        }
        reply(absl::Status(
            written.code(),
            absl::StrCat(what, " could not be audited, so it is not answered: ",
                         written.message())));
      });
}

absl::StatusOr<v1::CheckToolCallResponse> DecideCheck(
    RegistryServices& services, CallScope& scope,
    const v1::CheckToolCallRequest& request, storage::pg::AuditEvent& audit) {
  if (absl::Status s = CheckToolName(request.tool(), "tool"); !s.ok()) {
    return s;
  }
  absl::StatusOr<ServerAccess> access = OpenServerForCaller(
      services, scope, request.project_key(), request.server(), "projectKey",
      "server", authz::Permission::kRead);
  if (!access.ok()) return access.status();
  const CachedServerPolicy& server = *access->server;
  const policy::Decision decision = Decide(server, request.tool());

  audit = scope.Audit(access->principal, access->project_key,
                      server.server.display_name);
  audit.tool = request.tool();
  audit.decision = decision.allowed ? "ALLOW" : "DENY";
  audit.reason = decision.reason;
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

absl::StatusOr<v1::FilterToolsResponse> DecideFilter(
    RegistryServices& services, CallScope& scope,
    const v1::FilterToolsRequest& request, storage::pg::AuditEvent& audit) {
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
  audit = scope.Audit(access->principal, access->project_key,
                      access->server->server.display_name);
  audit.reason = absl::StrCat(response.allowed_tools_size(), " of ",
                              request.tools_size(), " tools allowed");
  return response;
}

}  // namespace

void HandleCheckToolCall(RegistryServices& services,
                         const sdk::CallContext& ctx,
                         const v1::CheckToolCallRequest& request,
                         sdk::Reply<v1::CheckToolCallResponse> reply) {
  CallScope scope(services, ctx, "tool.check");
  storage::pg::AuditEvent audit;
  auto decided = DecideCheck(services, scope, request, audit);
  AnswerOnceAudited(services, scope, std::move(decided), audit, "the check",
                    std::move(reply));
}

void HandleFilterTools(RegistryServices& services, const sdk::CallContext& ctx,
                       const v1::FilterToolsRequest& request,
                       sdk::Reply<v1::FilterToolsResponse> reply) {
  CallScope scope(services, ctx, "tool.filter");
  storage::pg::AuditEvent audit;
  auto decided = DecideFilter(services, scope, request, audit);
  AnswerOnceAudited(services, scope, std::move(decided), audit, "the filter",
                    std::move(reply));
}

}  // namespace mcpreg
