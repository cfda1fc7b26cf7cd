// CheckToolCall and FilterTools: the hot path. The server and its compiled
// policy come from the cache; the audit row is group-committed and durable
// before the answer, and a check whose audit row is not confirmed fails
// (closed) rather than answering unaudited. The answer is sent from the audit
// writer once the row's batch commits: the worker that decided is free at
// once, instead of sleeping through the commit and being woken to answer.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/caller_info.h"
#include "plugin/src/handlers/governance_handlers.h"
#include "plugin/src/handlers/server_access.h"
#include "storage/error_detail.h"

namespace mcpreg {
namespace {

constexpr int kMaxFilterTools = 1000;
constexpr char kCheckAction[] = "tool.check";
constexpr char kFilterAction[] = "tool.filter";

policy::Decision Decide(const CachedServerPolicy& server,
                        const std::string& tool) {
  return server.compiled == nullptr ? policy::NoPolicyDecision()
                                    : server.compiled->Check(tool);
}

// Appends `audit` and answers `response` once it has committed — or, if it
// could not be, or only after the call's deadline, the reason, prefixed with
// `what` ("the check").
template <typename Response>
void AnswerOnceAudited(RegistryDependencies& deps, const CallScope& scope,
                       Response response, const storage::AuditEvent& audit,
                       absl::string_view what, sdk::Reply<Response> reply) {
  deps.audit->AppendAsync(
      audit, [what = std::string(what), response = std::move(response),
              deadline = scope.deadline(), reply, &log = deps.log,
              request_id = scope.request_id()](const absl::Status& written) {
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
        reply(ForCaller(
            storage::WithPrefix(written,
                                absl::StrCat(what,
                                             " could not be audited, so it is "
                                             "not answered: ")),
            request_id, log));
      });
}

absl::Status ValidateCheck(const v1::CheckToolCallRequest& request) {
  if (absl::Status s = CheckToolName(request.tool(), "tool"); !s.ok()) return s;
  return ValidateCallerInfo(request.caller(), "caller");
}

v1::CheckToolCallResponse DecideCheck(const CallScope& scope,
                                      const ServerAccess& access,
                                      const v1::CheckToolCallRequest& request,
                                      storage::AuditEvent& audit) {
  const CachedServerPolicy& server = *access.server;
  const policy::Decision decision = Decide(server, request.tool());
  audit = scope.Audit(access.principal, access.project_key,
                      server.server.display_name);
  audit.tool = request.tool();
  audit.decision = decision.allowed ? "ALLOW" : "DENY";
  audit.reason = decision.reason;
  if (request.has_caller()) {
    audit.details_json = WithCallerDetails("{}", request.caller());
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

absl::Status ValidateFilter(const v1::FilterToolsRequest& request) {
  if (absl::Status s = ValidateCallerInfo(request.caller(), "caller");
      !s.ok()) {
    return s;
  }
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
  return absl::OkStatus();
}

v1::FilterToolsResponse DecideFilter(const CallScope& scope,
                                     const ServerAccess& access,
                                     const v1::FilterToolsRequest& request,
                                     storage::AuditEvent& audit) {
  v1::FilterToolsResponse response;
  for (const std::string& tool : request.tools()) {
    // The same decision CheckToolCall would give, tool by tool.
    if (Decide(*access.server, tool).allowed) {
      response.add_allowed_tools(tool);
    } else {
      response.add_denied_tools(tool);
    }
  }
  audit = scope.Audit(access.principal, access.project_key,
                      access.server->server.display_name);
  audit.reason = absl::StrCat(response.allowed_tools_size(), " of ",
                              request.tools_size(), " tools allowed");
  if (request.has_caller()) {
    audit.details_json = WithCallerDetails("{}", request.caller());
  }
  return response;
}

// A per-server decision and its audit row. Everything but the audit write
// may block (loading the caller, the grant or the policy); refusals are
// audited by CallScope.
template <typename Request, typename Response, typename Validate,
          typename DecideFn>
void DecideAndAnswer(RegistryDependencies& deps, const sdk::CallContext& ctx,
                     absl::string_view action, absl::string_view what,
                     const Request& request, Validate validate, DecideFn decide,
                     sdk::Reply<Response> reply) {
  CallScope scope(deps, ctx, std::string(action));
  if (absl::Status s = validate(request); !s.ok()) {
    reply(s);
    return;
  }
  absl::StatusOr<ServerAccess> access =
      OpenServerForCaller(deps, scope, request.project_key(), request.server(),
                          "projectKey", "server", authz::Permission::kRead);
  if (!access.ok()) {
    reply(access.status());
    return;
  }
  storage::AuditEvent audit;
  Response response = decide(scope, *access, request, audit);
  AnswerOnceAudited<Response>(deps, scope, std::move(response), audit, what,
                              std::move(reply));
}

// The same from the caches alone, on the host's thread: false, having not
// answered, when the request is invalid or anything needed is not cached.
template <typename Request, typename Response, typename Validate,
          typename DecideFn>
bool DecideAndAnswerFromCaches(RegistryDependencies& deps,
                               const sdk::CallContext& ctx,
                               absl::string_view action, absl::string_view what,
                               const Request& request, Validate validate,
                               DecideFn decide,
                               const sdk::Reply<Response>& reply) {
  if (!validate(request).ok()) return false;
  CallScope scope(deps, ctx, std::string(action));
  std::optional<ServerAccess> access =
      OpenServerFromCaches(deps, scope, request.project_key(), request.server(),
                           authz::Permission::kRead);
  if (!access.has_value()) return false;
  storage::AuditEvent audit;
  Response response = decide(scope, *access, request, audit);
  AnswerOnceAudited<Response>(deps, scope, std::move(response), audit, what,
                              reply);
  return true;
}

}  // namespace

void HandleCheckToolCall(RegistryDependencies& deps,
                         const sdk::CallContext& ctx,
                         const v1::CheckToolCallRequest& request,
                         sdk::Reply<v1::CheckToolCallResponse> reply) {
  DecideAndAnswer(deps, ctx, kCheckAction, "the check", request, &ValidateCheck,
                  &DecideCheck, std::move(reply));
}

bool AnswerCheckToolCallFromCaches(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::CheckToolCallRequest& request,
    const sdk::Reply<v1::CheckToolCallResponse>& reply) {
  return DecideAndAnswerFromCaches(deps, ctx, kCheckAction, "the check",
                                   request, &ValidateCheck, &DecideCheck,
                                   reply);
}

void HandleFilterTools(RegistryDependencies& deps, const sdk::CallContext& ctx,
                       const v1::FilterToolsRequest& request,
                       sdk::Reply<v1::FilterToolsResponse> reply) {
  DecideAndAnswer(deps, ctx, kFilterAction, "the filter", request,
                  &ValidateFilter, &DecideFilter, std::move(reply));
}

bool AnswerFilterToolsFromCaches(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::FilterToolsRequest& request,
    const sdk::Reply<v1::FilterToolsResponse>& reply) {
  return DecideAndAnswerFromCaches(deps, ctx, kFilterAction, "the filter",
                                   request, &ValidateFilter, &DecideFilter,
                                   reply);
}

}  // namespace mcpreg
