#include "pg_authorizer.h"

#include "absl/time/clock.h"
#include "access_token.h"

namespace mcpreg::authz {

absl::StatusOr<Principal> PgAuthorizer::Authenticate(const Metadata& metadata,
                                                     absl::Time deadline) {
  absl::StatusOr<std::string> token = BearerToken(metadata);
  if (!token.ok()) return token.status();
  const std::string hash = TokenSha256Hex(*token);
  auto found = store_.FindToken(hash, deadline);
  if (!found.ok()) return found.status();
  // The row was found by its hash; compare again in constant time so the
  // equality itself leaks no timing about how much of a guess matched.
  if (!found->has_value() ||
      !ConstantTimeEquals((*found)->token_sha256, hash)) {
    return absl::UnauthenticatedError("the access token is not valid");
  }
  const storage::pg::TokenRecord& record = **found;
  if (record.revoked_at) {
    return absl::UnauthenticatedError("the access token was revoked");
  }
  if (record.expires_at && *record.expires_at <= absl::Now()) {
    return absl::UnauthenticatedError("the access token has expired");
  }
  return Principal{record.principal};
}

absl::Status PgAuthorizer::Require(const Principal& principal, const Metadata&,
                                   Permission permission,
                                   const std::string& resource,
                                   absl::Time deadline) {
  auto has = store_.HasGrant(
      principal.name, std::string(PermissionName(permission)),
      permission == Permission::kAdmin ? "" : resource, deadline);
  if (!has.ok()) return has.status();
  if (!*has) return DeniedError(principal, permission, resource);
  return absl::OkStatus();
}

}  // namespace mcpreg::authz
