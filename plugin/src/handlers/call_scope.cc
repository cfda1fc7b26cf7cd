#include "plugin/src/handlers/call_scope.h"

#include <algorithm>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace mcpreg {
namespace {

// An identifier, not a secret: it must be unique, not unpredictable, so a
// seeded generator per thread does (OpenSSL's RAND_bytes cost ~4% of a
// cached check's CPU).
std::string NewRequestId() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;  // 32 bits a call: seed with 128
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return absl::StrFormat("%016x", generator());
}

}  // namespace

CallScope::CallScope(RegistryDependencies& deps, const sdk::CallContext& ctx,
                     std::string action)
    : deps_(deps), ctx_(ctx), action_(std::move(action)) {
  // Work that outlives its caller is wasted: without a deadline from the
  // host, bound it anyway.
  deadline_ = std::min(ctx.deadline(), absl::Now() + kLongestCall);
  // The caller's id is recorded only when it is plain text: anything else
  // (control bytes, invalid UTF-8 from a REST header) could fail the audit
  // insert it travels in.
  request_id_ = std::string(ctx.Header("x-request-id"));
  const bool plain =
      !request_id_.empty() && request_id_.size() <= 128 &&
      std::all_of(request_id_.begin(), request_id_.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
               c == '_' || c == ':' || c == '-';
      });
  if (!plain) request_id_ = NewRequestId();
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
    deps_.log.Warning(absl::StrCat("could not audit a denial of ", action_,
                                   ": ", written.message()));
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
  absl::StatusOr<authz::Principal> principal =
      deps_.authorizer->Authenticate(ctx_.metadata(), deadline_);
  if (principal.status().code() == absl::StatusCode::kUnauthenticated) {
    AuditDenial("anonymous", project_key, server, principal.status());
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
