// The built-in authorizer: tokens and grants in the registry's own store
// (storage::AccessStore, PostgreSQL in service), with an optional cache of
// recent decisions kept coherent by NOTIFY.
#ifndef MCPREG_AUTHZ_BUILTIN_AUTHORIZER_H_
#define MCPREG_AUTHZ_BUILTIN_AUTHORIZER_H_

#include "authz/access_cache.h"
#include "authz/authorizer.h"
#include "storage/access_store.h"

namespace mcpreg::authz {

class BuiltinAuthorizer : public Authorizer {
 public:
  // `cache` may be null (every call reads the database); it must outlive
  // the authorizer.
  explicit BuiltinAuthorizer(storage::AccessStore& store,
                             AccessCache* cache = nullptr)
      : store_(store), cache_(cache) {}

  absl::StatusOr<Principal> Authenticate(const Metadata& metadata,
                                         absl::Time deadline) override;
  absl::Status Require(const Principal& principal, const Metadata& metadata,
                       Permission permission, const std::string& resource,
                       absl::Time deadline) override;
  std::optional<Principal> CachedPrincipal(const Metadata& metadata) override;
  bool CachedHolds(const Principal& principal, Permission permission,
                   const std::string& resource) override;

 private:
  // The principal of the token whose hash is `token_sha256`, if cached and
  // not expired.
  std::optional<Principal> FindCachedToken(
      const std::string& token_sha256) const;

  storage::AccessStore& store_;
  AccessCache* const cache_;
};

}  // namespace mcpreg::authz

#endif  // MCPREG_AUTHZ_BUILTIN_AUTHORIZER_H_
