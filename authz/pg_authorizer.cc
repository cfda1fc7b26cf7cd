#include "pg_authorizer.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "access_token.h"

namespace mcpreg::authz {

absl::StatusOr<Principal> PgAuthorizer::Authenticate(const Metadata& metadata,
                                                     absl::Time deadline) {
  absl::StatusOr<std::string> token = BearerToken(metadata);
  if (!token.ok()) return token.status();
  const std::string hash = TokenSha256Hex(*token);
  if (cache_ != nullptr) {
    // Only live tokens are cached, and a revocation clears the cache.
    if (auto cached = cache_->FindToken(hash);
        cached.has_value() && cached->expires_at > absl::Now()) {
      return Principal{cached->principal};
    }
  }
  const uint64_t generation = cache_ != nullptr ? cache_->generation() : 0;
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
  if (cache_ != nullptr) {
    cache_->PutToken(
        hash,
        {record.principal, record.expires_at.value_or(absl::InfiniteFuture())},
        generation);
  }
  return Principal{record.principal};
}

absl::Status PgAuthorizer::Require(const Principal& principal, const Metadata&,
                                   Permission permission,
                                   const std::string& resource,
                                   absl::Time deadline) {
  const std::string scope =
      permission == Permission::kAdmin ? std::string() : resource;
  const std::string key = absl::StrCat(principal.name, "\n",
                                       PermissionName(permission), "\n", scope);
  std::optional<bool> held;
  if (cache_ != nullptr) held = cache_->FindGrant(key);
  if (!held.has_value()) {
    const uint64_t generation = cache_ != nullptr ? cache_->generation() : 0;
    auto has =
        store_.HasGrant(principal.name, std::string(PermissionName(permission)),
                        scope, deadline);
    if (!has.ok()) return has.status();
    held = *has;
    if (cache_ != nullptr) cache_->PutGrant(key, *held, generation);
  }
  if (!*held) return DeniedError(principal, permission, resource);
  return absl::OkStatus();
}

}  // namespace mcpreg::authz
