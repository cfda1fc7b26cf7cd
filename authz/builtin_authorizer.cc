#include "authz/builtin_authorizer.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "authz/access_token.h"

namespace mcpreg::authz {
namespace {

// What a grant is on: the admin role is on nothing in particular.
std::string GrantScope(Permission permission, const std::string& resource) {
  return permission == Permission::kAdmin ? std::string() : resource;
}

// A grant's key in the cache: who, which permission, on what.
std::string GrantKey(const Principal& principal, Permission permission,
                     const std::string& resource) {
  return absl::StrCat(principal.name, "\n", PermissionName(permission), "\n",
                      GrantScope(permission, resource));
}

}  // namespace

std::optional<Principal> BuiltinAuthorizer::FindCachedToken(
    const std::string& token_sha256) const {
  if (cache_ == nullptr) return std::nullopt;
  // Only live tokens are cached, and a revocation clears the cache.
  if (auto cached = cache_->FindToken(token_sha256);
      cached.has_value() && cached->expires_at > absl::Now()) {
    return Principal{cached->principal};
  }
  return std::nullopt;
}

std::optional<Principal> BuiltinAuthorizer::CachedPrincipal(
    const Metadata& metadata) {
  if (cache_ == nullptr) return std::nullopt;
  absl::StatusOr<std::string> token = BearerToken(metadata);
  if (!token.ok()) return std::nullopt;
  return FindCachedToken(TokenSha256Hex(*token));
}

bool BuiltinAuthorizer::CachedHolds(const Principal& principal,
                                    Permission permission,
                                    const std::string& resource) {
  if (cache_ == nullptr) return false;
  const std::optional<bool> held =
      cache_->FindGrant(GrantKey(principal, permission, resource));
  return held.value_or(false);
}

absl::StatusOr<Principal> BuiltinAuthorizer::Authenticate(
    const Metadata& metadata, absl::Time deadline) {
  absl::StatusOr<std::string> token = BearerToken(metadata);
  if (!token.ok()) return token.status();
  const std::string hash = TokenSha256Hex(*token);
  if (auto cached = FindCachedToken(hash)) return *std::move(cached);
  const uint64_t generation = cache_ != nullptr ? cache_->generation() : 0;
  auto found = store_.FindToken(hash, deadline);
  if (!found.ok()) return found.status();
  // The row was found by its hash; compare again in constant time so the
  // equality itself leaks no timing about how much of a guess matched.
  if (!found->has_value() ||
      !ConstantTimeEquals((*found)->token_sha256, hash)) {
    return absl::UnauthenticatedError("the access token is not valid");
  }
  const storage::TokenRecord& record = **found;
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

absl::Status BuiltinAuthorizer::Require(const Principal& principal,
                                        const Metadata&, Permission permission,
                                        const std::string& resource,
                                        absl::Time deadline) {
  const std::string key = GrantKey(principal, permission, resource);
  std::optional<bool> held;
  if (cache_ != nullptr) held = cache_->FindGrant(key);
  if (!held.has_value()) {
    const uint64_t generation = cache_ != nullptr ? cache_->generation() : 0;
    auto has =
        store_.HasGrant(principal.name, std::string(PermissionName(permission)),
                        GrantScope(permission, resource), deadline);
    if (!has.ok()) return has.status();
    held = *has;
    if (cache_ != nullptr) cache_->PutGrant(key, *held, generation);
  }
  if (!*held) return DeniedError(principal, permission, resource);
  return absl::OkStatus();
}

}  // namespace mcpreg::authz
