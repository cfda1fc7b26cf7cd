// ListAuditEvents and VerifyAuditLog.
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/governance_handlers.h"
#include "plugin/src/validation/register_validation.h"
#include "storage/audit_log.h"

namespace mcpreg {
namespace {

using google::protobuf::util::TimeUtil;

constexpr uint32_t kDefaultAuditPage = 100;
constexpr uint32_t kMaxAuditPage = 1000;

absl::Status CheckFilter(const std::string& value, absl::string_view field) {
  if (value.size() > 512) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most 512 bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::ListAuditEventsResponse> HandleListAuditEvents(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListAuditEventsRequest& request) {
  CallScope scope(deps, ctx, "audit.list");
  storage::AuditQuery query;
  query.project_key = scope.ProjectKey(request.project_key());
  if (absl::Status s = ValidateProjectKey(query.project_key, "projectKey");
      !s.ok()) {
    return s;
  }
  for (const auto& [value, field] : {std::pair{&request.actor(), "actor"},
                                     {&request.server(), "server"},
                                     {&request.tool(), "tool"},
                                     {&request.action(), "action"}}) {
    if (absl::Status s = CheckFilter(*value, field); !s.ok()) return s;
  }
  if (!request.decision().empty() && request.decision() != "ALLOW" &&
      request.decision() != "DENY" && request.decision() != "ERROR") {
    return absl::InvalidArgumentError(
        "decision: must be ALLOW, DENY or ERROR (or empty for any)");
  }
  if (request.page_size() > kMaxAuditPage) {
    return absl::InvalidArgumentError(
        absl::StrCat("pageSize: at most ", kMaxAuditPage));
  }
  if (!request.page_token().empty()) {
    std::string raw;
    if (!absl::WebSafeBase64Unescape(request.page_token(), &raw) ||
        !absl::SimpleAtoi(raw, &query.before_id) || query.before_id <= 0) {
      return absl::InvalidArgumentError(
          "pageToken: not a token from a previous ListAuditEvents response");
    }
  }
  for (const auto& [ts, field] :
       {std::pair{&request.since(), "since"}, {&request.until(), "until"}}) {
    if (ts->seconds() < TimeUtil::kTimestampMinSeconds ||
        ts->seconds() > TimeUtil::kTimestampMaxSeconds || ts->nanos() < 0 ||
        ts->nanos() > 999999999) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": not a valid timestamp"));
    }
  }
  if (request.has_since()) {
    query.since_micros = TimeUtil::TimestampToMicroseconds(request.since());
  }
  if (request.has_until()) {
    query.until_micros = TimeUtil::TimestampToMicroseconds(request.until());
  }
  query.actor = request.actor();
  query.server = request.server();
  query.tool = request.tool();
  query.action = request.action();
  query.decision = request.decision();
  query.limit =
      request.page_size() == 0 ? kDefaultAuditPage : request.page_size();

  absl::StatusOr<authz::Principal> principal =
      scope.AuthenticateWithAllow(query.project_key, "");
  if (!principal.ok()) return principal.status();
  absl::StatusOr<storage::AuditPage> page =
      deps.audit->List(query, scope.deadline());
  if (!page.ok()) return page.status();
  v1::ListAuditEventsResponse response;
  for (v1::AuditEvent& e : page->events) *response.add_events() = std::move(e);
  if (page->next_before_id != 0) {
    response.set_next_page_token(
        absl::WebSafeBase64Escape(absl::StrCat(page->next_before_id)));
  }
  return response;
}

absl::StatusOr<v1::VerifyAuditLogResponse> HandleVerifyAuditLog(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::VerifyAuditLogRequest&) {
  CallScope scope(deps, ctx, "audit.verify");
  absl::StatusOr<authz::Principal> admin = scope.AuthenticateAdmin();
  if (!admin.ok()) return admin.status();
  absl::StatusOr<storage::ChainVerdict> verdict =
      deps.audit->Verify(scope.deadline());
  if (!verdict.ok()) return verdict.status();
  v1::VerifyAuditLogResponse response;
  response.set_intact(verdict->intact);
  response.set_rows_checked(verdict->rows_checked);
  response.set_first_broken_id(verdict->first_broken_id);
  response.set_problem(verdict->problem);
  return response;
}

}  // namespace mcpreg
