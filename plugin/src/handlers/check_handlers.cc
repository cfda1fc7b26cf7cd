// CheckToolCall and FilterTools: the hot path. The server and its compiled
// policy come from the cache; the audit row is group-committed and durable
// before the answer, and a check whose audit row is not confirmed fails
// (closed) rather than answering unaudited. The answer is sent from the audit
// writer once the row's batch commits: the worker that decided is free at
// once, instead of sleeping through the commit and being woken to answer.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/caller_info.h"
#include "plugin/src/handlers/governance_handlers.h"
#include "plugin/src/handlers/server_access.h"
#include "plugin/src/handlers/tool_definitions.h"
#include "storage/error_detail.h"

namespace mcpreg {
namespace {

constexpr int kMaxFilterTools = 1000;
constexpr char kCheckAction[] = "tool.check";
constexpr char kFilterAction[] = "tool.filter";
// How often one call's decision is taken again because its policy changed
// while its row was being written; a policy that keeps changing faster than
// that fails the call (UNAVAILABLE, to retry) rather than looping.
constexpr int kMaxRedecisions = 2;
// The longest the audit writer waits to read a changed policy again.
constexpr absl::Duration kReloadBudget = absl::Seconds(2);

// May the tool appear in a filtered list? Entries with argument conditions
// are assumed to hold (the call is checked with its arguments); under
// pinning only an approved definition is listed, so a list without
// definitions shows nothing.
bool MayList(const CachedServerPolicy& server, const std::string& tool,
             const ReportedEntry* entry) {
  if (server.compiled == nullptr || !server.compiled->MayList(tool)) {
    return false;
  }
  // A name the page lists twice is never shown, pinned or not.
  if (entry != nullptr && entry->duplicate) return false;
  if (!server.pinned()) return true;
  return entry != nullptr &&
         ApprovalOf(server, *entry) == v1::ToolDefinitionStatus::APPROVED;
}

// Takes the decision on `server`'s policy: the answer, and `audit`'s
// decision fields.
template <typename Request, typename Response>
using DecideFn = Response (*)(const CachedServerPolicy& server,
                              const Request& request,
                              storage::AuditEvent& audit);

// A decision on its way to the audit log, with what it takes to decide
// again.
template <typename Request, typename Response>
struct PendingDecision {
  RegistryDependencies* deps;
  std::shared_ptr<const Request> request;
  DecideFn<Request, Response> decide;
  storage::AuditEvent audit;  // the call's actor, project, request id
  std::string what;           // "the check", in errors
  absl::Time deadline;
  sdk::Reply<Response> reply;
  int redecisions_left = kMaxRedecisions;
};

template <typename Request, typename Response>
void Redecide(PendingDecision<Request, Response> pending,
              const CachedServerPolicy& stale,
              const storage::AuditEvent& attempted);

// Decides on `server`'s policy, appends the row naming that policy's
// revision, and answers once it has committed — or, if it could not be, or
// only after the call's deadline, with the reason.
template <typename Request, typename Response>
void DecideAndRecord(PendingDecision<Request, Response> pending,
                     std::shared_ptr<const CachedServerPolicy> server) {
  storage::AuditEvent audit = pending.audit;
  audit.server = server->server.display_name;
  audit.policy_server_id = server->server.server_id;
  audit.policy_revision = server->server.policy_revision;
  Response response = pending.decide(*server, *pending.request, audit);
  RegistryDependencies& deps = *pending.deps;
  deps.audit->AppendAsync(audit, [pending = std::move(pending),
                                  response = std::move(response),
                                  server = std::move(server),
                                  audit](const absl::Status& written) mutable {
    if (storage::IsStalePolicy(written)) {
      Redecide(std::move(pending), *server, audit);
      return;
    }
    if (written.ok() && absl::Now() > pending.deadline) {
      // The host has most likely answered already; one that does not
      // bound calls itself still must not get a late answer.
      pending.reply(absl::DeadlineExceededError(absl::StrCat(
          pending.what, "'s audit row was committed only after the deadline")));
      return;
    }
    if (written.ok()) {
      pending.reply(response);
      return;
    }
    pending.reply(
        ForCaller(storage::WithPrefix(
                      written, absl::StrCat(pending.what,
                                            " could not be audited, so it is "
                                            "not answered: ")),
                  pending.audit.request_id, pending.deps->log));
  });
}

// Records `attempted` as refused with `why` (decision DENY or ERROR), then
// answers `why` whether or not the row could be written: a refusal is
// never an allow.
template <typename Request, typename Response>
void RefuseAfterAll(const PendingDecision<Request, Response>& pending,
                    const storage::AuditEvent& attempted, absl::Status why,
                    absl::string_view decision) {
  storage::AuditEvent row = attempted;
  row.decision = std::string(decision);
  row.reason = decision == "DENY"
                   ? std::string(why.message())
                   : "the server's tool policy could not be read again";
  row.policy_server_id = 0;
  row.policy_revision = 0;
  // The attempt's details may hold argument values recorded under a policy
  // that no longer asks for them.
  row.details_json = pending.request->has_caller()
                         ? WithCallerDetails("{}", pending.request->caller())
                         : "{}";
  pending.deps->audit->AppendAsync(row, [pending, why = std::move(why)](
                                            const absl::Status&) {
    pending.reply(ForCaller(why, pending.audit.request_id, pending.deps->log));
  });
}

// The policy `stale` was replaced before the row `attempted`, decided on
// it, could be recorded. Runs on the audit writer's thread, which answers
// nothing else while it waits for a reload (at most kReloadBudget): of the
// decisions that meet one change on this replica, the first reloads the
// policy and the others find it cached.
template <typename Request, typename Response>
void Redecide(PendingDecision<Request, Response> pending,
              const CachedServerPolicy& stale,
              const storage::AuditEvent& attempted) {
  RegistryDependencies& deps = *pending.deps;
  if (pending.redecisions_left-- <= 0) {
    RefuseAfterAll(pending, attempted,
                   absl::UnavailableError(absl::StrCat(
                       pending.what,
                       ": the server's tool policy kept changing while the "
                       "decision was recorded; retry")),
                   "ERROR");
    return;
  }
  const std::string& project = pending.audit.project_key;
  const std::string& server = pending.request->server();  // the cache's key
  deps.policy_cache->InvalidateRevision(stale.server.server_id,
                                        stale.server.policy_revision);
  absl::StatusOr<std::shared_ptr<const CachedServerPolicy>> fresh =
      deps.policy_cache->Get(
          project, server,
          std::min(pending.deadline, absl::Now() + kReloadBudget));
  // The same server, or one registered anew under its name from the same
  // repository — on which the caller's READ was checked.
  if (fresh.ok() && ((*fresh)->server.server_id == stale.server.server_id ||
                     (*fresh)->server.repo_key == stale.server.repo_key)) {
    DecideAndRecord(std::move(pending), *std::move(fresh));
    return;
  }
  if (fresh.ok()) {
    RefuseAfterAll(pending, attempted,
                   absl::AbortedError(absl::StrCat(
                       "server: ", server,
                       " was unregistered and registered again while the "
                       "call was decided; retry")),
                   "DENY");
  } else if (fresh.status().code() == absl::StatusCode::kNotFound) {
    RefuseAfterAll(pending, attempted, UnknownServer(project, server, "server"),
                   "DENY");
  } else {
    RefuseAfterAll(pending, attempted, fresh.status(), "ERROR");
  }
}

absl::Status ValidateCheck(const v1::CheckToolCallRequest& request) {
  if (absl::Status s = CheckToolName(request.tool(), "tool"); !s.ok()) return s;
  if (absl::Status s = ValidateArguments(request.arguments(), "arguments");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateDigest(request.definition_digest(), "definitionDigest");
      !s.ok()) {
    return s;
  }
  return ValidateCallerInfo(request.caller(), "caller");
}

// `arguments` with every U+0000 (which jsonb, hence the audit log, cannot
// hold) replaced by U+FFFD: a value must not make its call unauditable.
google::protobuf::Struct WithoutNul(google::protobuf::Struct arguments) {
  std::vector<google::protobuf::Value*> pending;
  const auto clean = [](std::string* s) {
    for (size_t at; (at = s->find('\0')) != std::string::npos;) {
      s->replace(at, 1, "\xEF\xBF\xBD");
    }
  };
  google::protobuf::Struct out;
  for (auto& [key, value] : *arguments.mutable_fields()) {
    std::string name = key;
    clean(&name);
    google::protobuf::Value& copy = (*out.mutable_fields())[name];
    copy = std::move(value);
    pending.push_back(&copy);
  }
  while (!pending.empty()) {
    google::protobuf::Value* v = pending.back();
    pending.pop_back();
    if (v->has_string_value()) {
      clean(v->mutable_string_value());
    } else if (v->has_list_value()) {
      for (auto& item : *v->mutable_list_value()->mutable_values()) {
        pending.push_back(&item);
      }
    } else if (v->has_struct_value()) {
      *v->mutable_struct_value() =
          WithoutNul(std::move(*v->mutable_struct_value()));
    }
  }
  return out;
}

// The check's audit details: what decided (entry, condition, definition),
// and the arguments only where the policy asks for them — they can carry
// secrets.
std::string CheckDetails(const CachedServerPolicy& server,
                         const v1::CheckToolCallRequest& request,
                         const policy::Decision& decision) {
  std::string details = "{";
  const auto add = [&details](absl::string_view member) {
    absl::StrAppend(&details, details.size() > 1 ? "," : "", member);
  };
  if (decision.entry_index >= 0) {
    add(absl::StrCat("\"entryIndex\":", decision.entry_index));
  }
  if (decision.condition_index >= 0) {
    add(absl::StrCat("\"conditionIndex\":", decision.condition_index));
  }
  if (!request.definition_digest().empty()) {  // validated: hex
    add(absl::StrCat("\"definitionDigest\":\"", request.definition_digest(),
                     "\""));
  }
  std::string arguments;
  if (server.server.policy.has_value() &&
      server.server.policy->audit_argument_values() &&
      google::protobuf::util::MessageToJsonString(
          WithoutNul(request.arguments()), &arguments)
          .ok()) {
    add(absl::StrCat("\"arguments\":", arguments));
  }
  details += "}";
  return request.has_caller() ? WithCallerDetails(details, request.caller())
                              : details;
}

v1::CheckToolCallResponse DecideCheck(const CachedServerPolicy& server,
                                      const v1::CheckToolCallRequest& request,
                                      storage::AuditEvent& audit) {
  const policy::Decision decision = DecideCall(server, request);
  audit.tool = request.tool();
  audit.decision = decision.allowed ? "ALLOW" : "DENY";
  audit.reason = decision.reason;
  audit.details_json = CheckDetails(server, request, decision);
  v1::CheckToolCallResponse response;
  response.set_allowed(decision.allowed);
  response.set_reason(decision.reason);
  response.set_entry_index(decision.entry_index);
  response.set_condition_index(decision.condition_index);
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
  if (request.definitions_size() > 0 && request.tools_size() > 0) {
    return absl::InvalidArgumentError(
        "definitions: give either tools (names) or definitions, not both");
  }
  if (request.definitions_size() > kMaxReportedDefinitions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "definitions: at most ", kMaxReportedDefinitions, " a call"));
  }
  if (request.version().size() > 128 ||
      HasControlCharacter(request.version())) {
    return absl::InvalidArgumentError(
        "version: at most 128 bytes, without control characters");
  }
  absl::StatusOr<std::vector<ReportedEntry>> reported =
      CanonicalDefinitions(request);
  if (!reported.ok()) return reported.status();
  for (size_t i = 0; i < reported->size(); ++i) {
    if (absl::Status s =
            CheckToolName((*reported)[i].definition.tool,
                          absl::StrCat("definitions[", i, "].name"));
        !s.ok()) {
      return s;
    }
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

v1::FilterToolsResponse DecideFilter(const CachedServerPolicy& server,
                                     const v1::FilterToolsRequest& request,
                                     storage::AuditEvent& audit) {
  v1::FilterToolsResponse response;
  for (const std::string& tool : request.tools()) {
    if (MayList(server, tool, nullptr)) {
      response.add_allowed_tools(tool);
    } else {
      response.add_denied_tools(tool);
    }
  }
  // Validated already; canonicalized again here so that a decision taken
  // anew (Redecide) needs nothing but the request.
  const std::vector<ReportedEntry> reported =
      CanonicalDefinitions(request).value_or(std::vector<ReportedEntry>());
  int pending = 0;
  for (const ReportedEntry& entry : reported) {
    const storage::ReportedDefinition& d = entry.definition;
    v1::ToolDefinitionStatus& status = *response.add_definitions();
    status.set_tool(d.tool);
    status.set_digest(d.digest);
    status.set_approval(ApprovalOf(server, entry));
    status.set_problem(entry.problem);
    if (status.approval() == v1::ToolDefinitionStatus::PENDING) ++pending;
    if (MayList(server, d.tool, &entry)) {
      response.add_allowed_tools(d.tool);
    } else {
      response.add_denied_tools(d.tool);
    }
  }
  audit.reason = absl::StrCat(
      response.allowed_tools_size(), " of ",
      request.tools_size() + request.definitions_size(), " tools allowed",
      pending > 0 ? absl::StrCat(", ", pending,
                                 " awaiting approval of a new "
                                 "or changed definition")
                  : "");
  if (request.has_caller()) {
    audit.details_json = WithCallerDetails("{}", request.caller());
  }
  return response;
}

// Hands a decision on `access` to DecideAndRecord.
template <typename Request, typename Response>
void Record(RegistryDependencies& deps, const CallScope& scope,
            const ServerAccess& access, const Request& request,
            DecideFn<Request, Response> decide, absl::string_view what,
            sdk::Reply<Response> reply) {
  PendingDecision<Request, Response> pending{
      &deps,
      std::make_shared<const Request>(request),
      decide,
      scope.Audit(access.principal, access.project_key,
                  access.server->server.display_name),
      std::string(what),
      scope.deadline(),
      std::move(reply)};
  DecideAndRecord(std::move(pending), access.server);
}

// What a request needs done before it is decided, given the caller's access
// to the server: FilterTools records the definitions it reports (which can
// change the policy: trust on first use). Null for nothing.
template <typename Request>
struct Preparation {
  // Whether the cached policy can decide without it.
  bool (*ready)(const CachedServerPolicy& server, const Request& request);
  absl::Status (*prepare)(RegistryDependencies& deps, const CallScope& scope,
                          const Request& request, ServerAccess& access);
};

// A per-server decision and its audit row. Everything but the audit write
// may block (loading the caller, the grant or the policy); refusals are
// audited by CallScope.
template <typename Request, typename Response, typename Validate>
void DecideAndAnswer(RegistryDependencies& deps, const sdk::CallContext& ctx,
                     absl::string_view action, absl::string_view what,
                     const Request& request, Validate validate,
                     DecideFn<Request, Response> decide,
                     sdk::Reply<Response> reply,
                     const Preparation<Request>* preparation = nullptr) {
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
  if (preparation != nullptr) {
    if (absl::Status s = preparation->prepare(deps, scope, request, *access);
        !s.ok()) {
      reply(ForCaller(s, scope.request_id(), deps.log));
      return;
    }
  }
  Record(deps, scope, *access, request, decide, what, std::move(reply));
}

// The same from the caches alone, on the host's thread: false, having not
// answered, when the request is invalid or anything needed is not cached.
template <typename Request, typename Response, typename Validate>
bool DecideAndAnswerFromCaches(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    absl::string_view action, absl::string_view what, const Request& request,
    Validate validate, DecideFn<Request, Response> decide,
    const sdk::Reply<Response>& reply,
    const Preparation<Request>* preparation = nullptr) {
  if (!validate(request).ok()) return false;
  CallScope scope(deps, ctx, std::string(action));
  std::optional<ServerAccess> access =
      OpenServerFromCaches(deps, scope, request.project_key(), request.server(),
                           authz::Permission::kRead);
  if (!access.has_value()) return false;
  if (preparation != nullptr && !preparation->ready(*access->server, request)) {
    return false;
  }
  Record(deps, scope, *access, request, decide, what, reply);
  return true;
}

bool FilterReady(const CachedServerPolicy& server,
                 const v1::FilterToolsRequest& request) {
  if (request.definitions_size() == 0) return true;
  absl::StatusOr<std::vector<ReportedEntry>> reported =
      CanonicalDefinitions(request);
  return reported.ok() &&
         !NeedsRecording(server, request.version(), Pinnable(*reported));
}

// Records what the request reports that the store lacks, then decides on
// the policy as that left it.
absl::Status RecordDefinitions(RegistryDependencies& deps,
                               const CallScope& scope,
                               const v1::FilterToolsRequest& request,
                               ServerAccess& access) {
  if (request.definitions_size() == 0 || deps.definitions == nullptr) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<ReportedEntry>> entries =
      CanonicalDefinitions(request);
  if (!entries.ok()) return entries.status();
  const std::vector<storage::ReportedDefinition> reported = Pinnable(*entries);
  const storage::ServerPolicy& server = access.server->server;
  if (!NeedsRecording(*access.server, request.version(), reported)) {
    return absl::OkStatus();
  }
  storage::AuditEvent audit =
      scope.Audit(access.principal, access.project_key, server.display_name);
  if (absl::Status s = deps.definitions->Record(
          server, request.version(), reported, audit, scope.deadline());
      !s.ok()) {
    return s;
  }
  deps.policy_cache->Invalidate(server.server_id);
  absl::StatusOr<std::shared_ptr<const CachedServerPolicy>> fresh =
      deps.policy_cache->Get(access.project_key, request.server(),
                             scope.deadline());
  if (!fresh.ok()) return fresh.status();
  if ((*fresh)->server.server_id != server.server_id) {
    return absl::AbortedError(absl::StrCat(
        "server: ", request.server(),
        " was unregistered and registered again meanwhile; retry"));
  }
  access.server = *std::move(fresh);
  return absl::OkStatus();
}

constexpr Preparation<v1::FilterToolsRequest> kRecordDefinitions{
    &FilterReady, &RecordDefinitions};

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
                  &ValidateFilter, &DecideFilter, std::move(reply),
                  &kRecordDefinitions);
}

bool AnswerFilterToolsFromCaches(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::FilterToolsRequest& request,
    const sdk::Reply<v1::FilterToolsResponse>& reply) {
  return DecideAndAnswerFromCaches(deps, ctx, kFilterAction, "the filter",
                                   request, &ValidateFilter, &DecideFilter,
                                   reply, &kRecordDefinitions);
}

}  // namespace mcpreg
