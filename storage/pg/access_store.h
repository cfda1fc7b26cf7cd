// Principals, access tokens (SHA-256 only) and grants: the data behind the
// built-in authorizer and the admin calls.
#ifndef MCPREG_STORAGE_PG_ACCESS_STORE_H_
#define MCPREG_STORAGE_PG_ACCESS_STORE_H_

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/access_store.h"
#include "storage/pg/audit_store.h"
#include "storage/pg/connection_pool.h"

namespace mcpreg::storage::pg {

void PrepareAccessStatements(pqxx::connection& c);

// storage/access_store.h, on PostgreSQL.
class PgAccessStore : public AccessStore {
 public:
  explicit PgAccessStore(ConnectionPool& pool) : pool_(pool) {}

  // The token row with this hash, or nullopt.
  absl::StatusOr<std::optional<TokenRecord>> FindToken(
      const std::string& sha256_hex, absl::Time deadline) override;

  absl::StatusOr<bool> HasGrant(const std::string& principal,
                                const std::string& permission,
                                const std::string& resource,
                                absl::Time deadline) override;

  absl::StatusOr<int64_t> CreateToken(const std::string& principal,
                                      const std::string& sha256_hex,
                                      const std::string& description,
                                      std::optional<absl::Time> expires_at,
                                      const AuditEvent& audit,
                                      absl::Time deadline) override;
  // Revokes and audits, returning the revoked token. NOT_FOUND for an
  // unknown id; FAILED_PRECONDITION for a token revoked before — so of
  // concurrent revokes exactly one succeeds and is audited.
  absl::StatusOr<TokenRecord> RevokeToken(int64_t id, const AuditEvent& audit,
                                          absl::Time deadline) override;
  absl::StatusOr<std::vector<TokenRecord>> ListTokens(
      const std::string& principal /* "" = all */,
      absl::Time deadline) override;

  absl::StatusOr<GrantResult> Grant(const std::string& principal,
                                    const std::string& permission,
                                    const std::string& resource,
                                    const AuditEvent& audit,
                                    absl::Time deadline) override;
  // NOT_FOUND when there was no such grant.
  absl::Status Revoke(const std::string& principal,
                      const std::string& permission,
                      const std::string& resource, const AuditEvent& audit,
                      absl::Time deadline) override;
  absl::StatusOr<std::vector<GrantRecord>> ListGrants(
      const std::string& principal /* "" = all */,
      absl::Time deadline) override;

  absl::Status BootstrapAdmin(const std::string& principal,
                              const std::string& sha256_hex,
                              const AuditEvent& audit,
                              absl::Time deadline) override;

  absl::StatusOr<bool> AnyPrincipal(absl::Time deadline) override;

 private:
  ConnectionPool& pool_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_ACCESS_STORE_H_
