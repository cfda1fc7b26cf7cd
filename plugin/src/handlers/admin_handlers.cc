#include "plugin/src/handlers/admin_handlers.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "authz/access_token.h"
#include "google/protobuf/util/time_util.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/validation/register_validation.h"
#include "storage/audit_log.h"

namespace mcpreg {
namespace {

using google::protobuf::util::TimeUtil;

absl::Status ValidatePrincipalName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("principal: is required");
  if (name.size() > 128) {
    return absl::InvalidArgumentError("principal: at most 128 characters");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.' || c == '@';
    if (!ok) {
      return absl::InvalidArgumentError(
          "principal: use letters, digits and - _ . @ only");
    }
  }
  return absl::OkStatus();
}

// Checks a grant's permission and resource; fills `permission_out`.
absl::Status ValidateGrant(const v1::Grant& grant) {
  if (absl::Status s = ValidatePrincipalName(grant.principal()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("grant.", s.message()));
  }
  const std::string& p = grant.permission();
  if (p == "ALLOW")
    return ValidateProjectKey(grant.resource(), "grant.resource");
  if (p == "READ" || p == "DEPLOY") {
    return ValidateRepoKey(grant.resource(), "grant.resource");
  }
  if (p == "ADMIN") {
    if (!grant.resource().empty()) {
      return absl::InvalidArgumentError(
          "grant.resource: must be empty for ADMIN");
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      "grant.permission: must be ALLOW (resource = project key), READ or "
      "DEPLOY (resource = repository key) or ADMIN");
}

v1::TokenInfo ToInfo(const storage::TokenRecord& t) {
  v1::TokenInfo info;
  info.set_id(t.id);
  info.set_principal(t.principal);
  info.set_description(t.description);
  *info.mutable_created_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t.created_at));
  if (t.expires_at) {
    *info.mutable_expires_at() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*t.expires_at));
  }
  if (t.revoked_at) {
    *info.mutable_revoked_at() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*t.revoked_at));
  }
  return info;
}

v1::Repository ToProto(const storage::RepositoryInfo& r) {
  v1::Repository out;
  out.set_key(r.key);
  out.set_package_type(r.package_type);
  out.set_repo_class(r.repo_class);
  out.set_anonymous_read(r.anonymous_read);
  out.set_project_key(r.project_key);
  return out;
}

}  // namespace

absl::StatusOr<v1::Repository> HandleCreateRepository(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::CreateRepositoryRequest& request) {
  CallScope scope(s, ctx, "repository.create");
  absl::StatusOr<authz::Principal> admin = scope.AuthenticateAdmin();
  if (!admin.ok()) return admin.status();
  const v1::Repository& r = request.repository();
  storage::RepositoryInfo info{
      r.key(), r.package_type(),
      r.repo_class().empty() ? "local" : r.repo_class(), r.project_key(),
      r.anonymous_read()};
  if (absl::Status st = s.repositories->CreateRepository(info); !st.ok()) {
    return st;
  }
  storage::AuditEvent audit = scope.Audit(*admin, info.project_key, "");
  audit.details_json = "{}";
  audit.reason = absl::StrCat("repository ", info.key, " (", info.package_type,
                              ", ", info.repo_class, ")");
  if (absl::Status st = s.audit->Append(audit, scope.deadline()); !st.ok()) {
    return st;
  }
  return ToProto(info);
}

absl::StatusOr<v1::ListRepositoriesResponse> HandleListRepositories(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::ListRepositoriesRequest&) {
  CallScope scope(s, ctx, "repository.list");
  absl::StatusOr<authz::Principal> admin = scope.AuthenticateAdmin();
  if (!admin.ok()) return admin.status();
  auto repos = s.repositories->ListRepositories();
  if (!repos.ok()) return repos.status();
  v1::ListRepositoriesResponse response;
  for (const auto& r : *repos) *response.add_repositories() = ToProto(r);
  return response;
}

absl::StatusOr<v1::CreateTokenResponse> HandleCreateToken(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::CreateTokenRequest& request) {
  CallScope scope(s, ctx, "token.create");
  if (absl::Status st = ValidatePrincipalName(request.principal()); !st.ok()) {
    return st;
  }
  if (request.description().size() > 256) {
    return absl::InvalidArgumentError("description: at most 256 bytes");
  }
  if (request.expires_in_days() > 3650) {
    return absl::InvalidArgumentError("expiresInDays: at most 3650");
  }
  absl::StatusOr<authz::Principal> admin = scope.AuthenticateAdmin();
  if (!admin.ok()) return admin.status();
  absl::StatusOr<std::string> token = authz::GenerateAccessToken();
  if (!token.ok()) return token.status();
  std::optional<absl::Time> expires;
  if (request.expires_in_days() > 0) {
    expires = absl::Now() + absl::Hours(24) * request.expires_in_days();
  }
  storage::AuditEvent audit = scope.Audit(*admin, "", "");
  audit.reason = absl::StrCat("token for ", request.principal());
  const std::string hash = authz::TokenSha256Hex(*token);
  auto id =
      s.access->CreateToken(request.principal(), hash, request.description(),
                            expires, audit, scope.deadline());
  if (!id.ok()) return id.status();
  auto record = s.access->FindToken(hash, scope.deadline());
  if (!record.ok()) return record.status();
  v1::CreateTokenResponse response;
  if (record->has_value()) *response.mutable_info() = ToInfo(**record);
  response.set_token(*token);
  return response;
}

namespace {

// Read-your-writes on this replica; the NOTIFY reaches the others.
v1::Grant ToGrant(const storage::GrantRecord& g) {
  v1::Grant out;
  out.set_principal(g.principal);
  out.set_permission(g.permission);
  out.set_resource(g.resource);
  *out.mutable_created_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(g.created_at));
  out.set_created_by(g.created_by);
  return out;
}

void AccessChanged(RegistryDependencies& s) {
  if (s.access_cache != nullptr) s.access_cache->Invalidate();
}

}  // namespace

absl::StatusOr<v1::RevokeTokenResponse> HandleRevokeToken(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::RevokeTokenRequest& request) {
  CallScope scope(s, ctx, "token.revoke");
  if (request.id() <= 0) return absl::InvalidArgumentError("id: is required");
  absl::StatusOr<authz::Principal> admin = scope.AuthenticateAdmin();
  if (!admin.ok()) return admin.status();
  storage::AuditEvent audit = scope.Audit(*admin, "", "");
  audit.reason = absl::StrCat("token ", request.id());
  absl::StatusOr<storage::TokenRecord> revoked =
      s.access->RevokeToken(request.id(), audit, scope.deadline());
  if (!revoked.ok()) return revoked.status();
  AccessChanged(s);
  v1::RevokeTokenResponse response;
  *response.mutable_info() = ToInfo(*revoked);
  return response;
}

absl::StatusOr<v1::ListTokensResponse> HandleListTokens(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::ListTokensRequest& request) {
  CallScope scope(s, ctx, "token.list");
  absl::StatusOr<authz::Principal> admin = scope.AuthenticateAdmin();
  if (!admin.ok()) return admin.status();
  auto tokens = s.access->ListTokens(request.principal(), scope.deadline());
  if (!tokens.ok()) return tokens.status();
  v1::ListTokensResponse response;
  for (const auto& t : *tokens) *response.add_tokens() = ToInfo(t);
  return response;
}

absl::StatusOr<v1::GrantPermissionResponse> HandleGrantPermission(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::GrantPermissionRequest& request) {
  CallScope scope(s, ctx, "grant");
  if (absl::Status st = ValidateGrant(request.grant()); !st.ok()) return st;
  absl::StatusOr<authz::Principal> admin = scope.AuthenticateAdmin();
  if (!admin.ok()) return admin.status();
  const v1::Grant& g = request.grant();
  storage::AuditEvent audit = scope.Audit(*admin, "", "");
  audit.reason = absl::StrCat(g.permission(), " on '", g.resource(), "' to ",
                              g.principal());
  absl::StatusOr<storage::GrantResult> granted = s.access->Grant(
      g.principal(), g.permission(), g.resource(), audit, scope.deadline());
  if (!granted.ok()) return granted.status();
  if (granted->created) AccessChanged(s);
  v1::GrantPermissionResponse response;
  *response.mutable_grant() = ToGrant(granted->grant);
  response.set_created(granted->created);
  return response;
}

absl::StatusOr<v1::RevokePermissionResponse> HandleRevokePermission(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::RevokePermissionRequest& request) {
  CallScope scope(s, ctx, "revoke");
  if (absl::Status st = ValidateGrant(request.grant()); !st.ok()) return st;
  absl::StatusOr<authz::Principal> admin = scope.AuthenticateAdmin();
  if (!admin.ok()) return admin.status();
  const v1::Grant& g = request.grant();
  storage::AuditEvent audit = scope.Audit(*admin, "", "");
  audit.reason = absl::StrCat(g.permission(), " on '", g.resource(), "' from ",
                              g.principal());
  if (absl::Status st = s.access->Revoke(g.principal(), g.permission(),
                                         g.resource(), audit, scope.deadline());
      !st.ok()) {
    return st;
  }
  AccessChanged(s);
  return v1::RevokePermissionResponse();
}

absl::StatusOr<v1::ListGrantsResponse> HandleListGrants(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::ListGrantsRequest& request) {
  CallScope scope(s, ctx, "grant.list");
  absl::StatusOr<authz::Principal> admin = scope.AuthenticateAdmin();
  if (!admin.ok()) return admin.status();
  auto grants = s.access->ListGrants(request.principal(), scope.deadline());
  if (!grants.ok()) return grants.status();
  v1::ListGrantsResponse response;
  for (const auto& g : *grants) *response.add_grants() = ToGrant(g);
  return response;
}

}  // namespace mcpreg
