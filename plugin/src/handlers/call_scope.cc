#include "plugin/src/handlers/call_scope.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/error_detail.h"

namespace mcpreg {

absl::Status ForCaller(const absl::Status& status,
                       const std::string& request_id, const sdk::HostLog& log) {
  const std::string detail = storage::ErrorDetail(status);
  if (detail.empty()) return status;
  log.Warning(absl::StrCat("request ", request_id, ": ", status.message(), ": ",
                           detail));
  return absl::Status(
      status.code(),
      absl::StrCat(status.message(), " (request ", request_id, ")"));
}

CallScope::CallScope(RegistryDependencies& deps, const sdk::CallContext& ctx,
                     std::string action)
    : deps_(deps), ctx_(ctx), action_(std::move(action)) {
  // Work that outlives its caller is wasted: without a deadline from the
  // host, bound it anyway.
  deadline_ = std::min(ctx.deadline(), absl::Now() + kLongestCall);
  request_id_ = ctx.request_id();
}

std::string CallScope::ProjectKey(const std::string& from_request) const {
  if (!from_request.empty()) return from_request;
  return std::string(ctx_.Header("jfrog-project-key"));
}

storage::AuditEvent CallScope::Audit(const authz::Principal& principal,
                                     const std::string& project_key,
                                     const std::string& server) const {
  storage::AuditEvent e;
  e.actor = principal.name;
  e.action = action_;
  e.project_key = project_key;
  e.server = server;
  e.decision = "ALLOW";
  e.request_id = request_id_;
  return e;
}

void CallScope::AuditDenial(const std::string& actor,
                            const std::string& project_key,
                            const std::string& server,
                            const absl::Status& why) {
  storage::AuditEvent e = Audit(authz::Principal{actor}, project_key, server);
  e.decision = "DENY";
  e.reason = std::string(why.message());
  absl::Status written = deps_.audit->Append(e, deadline_);
  if (!written.ok()) {
    deps_.log.Warning(absl::StrCat(
        "request ", request_id_, ": could not audit a denial of ", action_,
        ": ", written.message(), " ", storage::ErrorDetail(written)));
  }
}

absl::StatusOr<authz::Principal> CallScope::AuthenticateWithAllow(
    const std::string& project_key, const std::string& server) {
  return AuthenticateAndRequire(authz::Permission::kAllow, project_key,
                                project_key, server);
}

absl::StatusOr<authz::Principal> CallScope::AuthenticateAdmin() {
  return AuthenticateAndRequire(authz::Permission::kAdmin, "", "", "");
}

absl::StatusOr<authz::Principal> CallScope::AuthenticateAndRequire(
    authz::Permission permission, const std::string& resource,
    const std::string& project_key, const std::string& server) {
  absl::StatusOr<authz::Principal> principal =
      Authenticate(project_key, server);
  if (!principal.ok()) return principal;
  if (absl::Status s =
          Require(*principal, permission, resource, project_key, server);
      !s.ok()) {
    return s;
  }
  return principal;
}

absl::StatusOr<authz::Principal> CallScope::Authenticate(
    const std::string& project_key, const std::string& server) {
  // A caller the authorizer knows already passes at once; anyone else from
  // an address that keeps failing is refused before any database work.
  const bool known =
      deps_.anonymous == nullptr ||
      deps_.authorizer->CachedPrincipal(ctx_.metadata()).has_value();
  if (!known) {
    storage::AuditEvent refused =
        Audit(authz::Principal{"anonymous"}, project_key, server);
    if (absl::Status s = deps_.anonymous->Admit(ctx_.peer(), refused);
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<authz::Principal> principal =
      deps_.authorizer->Authenticate(ctx_.metadata(), deadline_);
  if (principal.status().code() == absl::StatusCode::kUnauthenticated) {
    if (deps_.anonymous != nullptr) {
      storage::AuditEvent e =
          Audit(authz::Principal{"anonymous"}, project_key, server);
      e.decision = "DENY";
      e.reason = std::string(principal.status().message());
      deps_.anonymous->Refused(ctx_.peer(), e);
    } else {
      AuditDenial("anonymous", project_key, server, principal.status());
    }
  }
  return principal;
}

absl::Status CallScope::Require(const authz::Principal& principal,
                                authz::Permission permission,
                                const std::string& resource,
                                const std::string& project_key,
                                const std::string& server) {
  absl::Status status = deps_.authorizer->Require(
      principal, ctx_.metadata(), permission, resource, deadline_);
  if (status.code() == absl::StatusCode::kPermissionDenied ||
      status.code() == absl::StatusCode::kUnauthenticated) {
    AuditDenial(principal.name, project_key, server, status);
  }
  return status;
}

}  // namespace mcpreg
