// Principals, access tokens (SHA-256 only) and grants: the data behind the
// built-in authorizer and the admin calls. The PostgreSQL implementation is
// storage/pg/access_store.h.
#ifndef MCPREG_STORAGE_ACCESS_STORE_H_
#define MCPREG_STORAGE_ACCESS_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/audit_log.h"

namespace mcpreg::storage {

struct TokenRecord {
  int64_t id = 0;
  std::string token_sha256;  // hex
  std::string principal;
  std::string description;
  absl::Time created_at;
  std::optional<absl::Time> expires_at;
  std::optional<absl::Time> revoked_at;
};

struct GrantRecord {
  std::string principal;
  std::string permission;  // "ALLOW", "READ", "ADMIN"
  std::string resource;
  absl::Time created_at;
  std::string created_by;
};

struct GrantResult {
  GrantRecord grant;
  bool created = false;  // false: the principal held it already
};

class AccessStore {
 public:
  virtual ~AccessStore() = default;

  // The token row with this hash, or nullopt.
  virtual absl::StatusOr<std::optional<TokenRecord>> FindToken(
      const std::string& sha256_hex, absl::Time deadline) = 0;

  // Whether `principal` holds `permission` on `resource`, or ADMIN.
  virtual absl::StatusOr<bool> HasGrant(const std::string& principal,
                                        const std::string& permission,
                                        const std::string& resource,
                                        absl::Time deadline) = 0;

  // Creates the principal if new, stores the token hash, audits; returns id.
  virtual absl::StatusOr<int64_t> CreateToken(
      const std::string& principal, const std::string& sha256_hex,
      const std::string& description, std::optional<absl::Time> expires_at,
      const AuditEvent& audit, absl::Time deadline) = 0;
  // Revokes and audits, returning the revoked token. NOT_FOUND for an
  // unknown id; FAILED_PRECONDITION for a token revoked before — so of
  // concurrent revokes exactly one succeeds and is audited.
  virtual absl::StatusOr<TokenRecord> RevokeToken(int64_t id,
                                                  const AuditEvent& audit,
                                                  absl::Time deadline) = 0;
  virtual absl::StatusOr<std::vector<TokenRecord>> ListTokens(
      const std::string& principal /* "" = all */, absl::Time deadline) = 0;

  // Idempotent; creates the principal if new. Returns the grant as stored
  // and whether this call created it: only a created grant is audited and
  // announced, so of concurrent identical grants exactly one is.
  virtual absl::StatusOr<GrantResult> Grant(const std::string& principal,
                                            const std::string& permission,
                                            const std::string& resource,
                                            const AuditEvent& audit,
                                            absl::Time deadline) = 0;
  // NOT_FOUND when there was no such grant.
  virtual absl::Status Revoke(const std::string& principal,
                              const std::string& permission,
                              const std::string& resource,
                              const AuditEvent& audit, absl::Time deadline) = 0;
  virtual absl::StatusOr<std::vector<GrantRecord>> ListGrants(
      const std::string& principal /* "" = all */, absl::Time deadline) = 0;

  // The first administrator: the principal, its ADMIN grant and its token,
  // in one transaction, so a failure leaves nothing behind and the next
  // start simply bootstraps again.
  virtual absl::Status BootstrapAdmin(const std::string& principal,
                                      const std::string& sha256_hex,
                                      const AuditEvent& audit,
                                      absl::Time deadline) = 0;

  // True once any principal exists (the database has been bootstrapped).
  virtual absl::StatusOr<bool> AnyPrincipal(absl::Time deadline) = 0;
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_ACCESS_STORE_H_
