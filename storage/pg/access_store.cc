#include "storage/pg/access_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "storage/pg/policy_store.h"
#include "storage/pg/transaction.h"

namespace mcpreg::storage::pg {
namespace {

constexpr char kFindToken[] = "access_find_token";
constexpr char kHasGrant[] = "access_has_grant";
constexpr char kEnsurePrincipal[] = "access_ensure_principal";
constexpr char kInsertToken[] = "access_insert_token";
constexpr char kRevokeToken[] = "access_revoke_token";
constexpr char kTokenById[] = "access_token_by_id";
constexpr char kListTokens[] = "access_list_tokens";
constexpr char kInsertGrant[] = "access_insert_grant";
constexpr char kFindGrant[] = "access_find_grant";
constexpr char kDeleteGrant[] = "access_delete_grant";
constexpr char kListGrants[] = "access_list_grants";
constexpr char kAnyPrincipal[] = "access_any_principal";

#define MCPREG_MICROS(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

std::optional<absl::Time> OptionalTime(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return absl::FromUnixMicros(f.as<int64_t>());
}

TokenRecord TokenFromRow(const pqxx::row& r) {
  TokenRecord t;
  t.id = r[0].as<int64_t>();
  t.token_sha256 = r[1].as<std::string>();
  t.principal = r[2].as<std::string>();
  t.description = r[3].as<std::string>();
  t.created_at = absl::FromUnixMicros(r[4].as<int64_t>());
  t.expires_at = OptionalTime(r[5]);
  t.revoked_at = OptionalTime(r[6]);
  return t;
}

GrantRecord GrantFromRow(const pqxx::row& r) {
  return GrantRecord{
      r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
      absl::FromUnixMicros(r[3].as<int64_t>()), r[4].as<std::string>()};
}

// How often Grant looks again for a grant that a revoke removed between its
// insert (which found it held) and its read.
constexpr int kGrantPasses = 3;

TransactionOptions Options(absl::Time deadline, std::string what) {
  TransactionOptions o;
  o.deadline = deadline;
  o.what = std::move(what);
  return o;
}

}  // namespace

void PrepareAccessStatements(pqxx::connection& c) {
  const std::string token_columns = absl::StrCat(
      "id, token_sha256, principal, description, ", MCPREG_MICROS("created_at"),
      ", ", MCPREG_MICROS("expires_at"), ", ", MCPREG_MICROS("revoked_at"));
  c.prepare(kFindToken, absl::StrCat("SELECT ", token_columns,
                                     " FROM access_tokens WHERE "
                                     "token_sha256 = $1"));
  c.prepare(kHasGrant, R"sql(
    SELECT EXISTS (SELECT 1 FROM grants WHERE principal = $1
                   AND ((permission = $2 AND resource = $3)
                        OR permission = 'ADMIN')))sql");
  c.prepare(kEnsurePrincipal,
            "INSERT INTO principals (name) VALUES ($1) ON CONFLICT DO NOTHING");
  c.prepare(kInsertToken, R"sql(
    INSERT INTO access_tokens (token_sha256, principal, description,
                               created_by, expires_at)
    VALUES ($1, $2, $3, $4,
            to_timestamp(NULLIF($5::bigint, 0)::float8 / 1000000))
    RETURNING id)sql");
  // Only a token still active: a concurrent revoke waits for this one's row
  // lock, re-checks, and finds it revoked.
  c.prepare(kRevokeToken,
            absl::StrCat("UPDATE access_tokens SET revoked_at = now() "
                         "WHERE id = $1 AND revoked_at IS NULL RETURNING ",
                         token_columns));
  c.prepare(kTokenById, absl::StrCat("SELECT ", token_columns,
                                     " FROM access_tokens WHERE id = $1"));
  c.prepare(kListTokens,
            absl::StrCat("SELECT ", token_columns,
                         " FROM access_tokens WHERE $1 = '' OR principal = $1 "
                         "ORDER BY id"));
  const std::string grant_columns =
      absl::StrCat("principal, permission, resource, ",
                   MCPREG_MICROS("created_at"), ", created_by");
  // A grant already held inserts nothing (a concurrent identical grant waits
  // for the first's commit, then finds it there) and returns no row.
  c.prepare(kInsertGrant,
            absl::StrCat("INSERT INTO grants (principal, permission, "
                         "resource, created_by) VALUES ($1, $2, $3, $4) "
                         "ON CONFLICT DO NOTHING RETURNING ",
                         grant_columns));
  c.prepare(kFindGrant, absl::StrCat("SELECT ", grant_columns,
                                     " FROM grants WHERE principal = $1 AND "
                                     "permission = $2 AND resource = $3"));
  c.prepare(kDeleteGrant, R"sql(
    DELETE FROM grants WHERE principal = $1 AND permission = $2
    AND resource = $3 RETURNING principal)sql");
  c.prepare(kListGrants,
            absl::StrCat("SELECT ", grant_columns,
                         " FROM grants WHERE $1 = '' OR principal = $1 "
                         "ORDER BY principal, permission, resource"));
  c.prepare(kAnyPrincipal, "SELECT EXISTS (SELECT 1 FROM principals)");
}

absl::StatusOr<std::optional<TokenRecord>> PgAccessStore::FindToken(
    const std::string& sha256_hex, absl::Time deadline) {
  std::optional<TokenRecord> found;
  absl::Status s =
      RunReadOnly(pool_, Options(deadline, "checking the access token"),
                  [&](pqxx::nontransaction& q) {
                    pqxx::result r = q.exec_prepared(kFindToken, sha256_hex);
                    found.reset();
                    if (!r.empty()) found = TokenFromRow(r[0]);
                    return absl::OkStatus();
                  });
  if (!s.ok()) return s;
  return found;
}

absl::StatusOr<bool> PgAccessStore::HasGrant(const std::string& principal,
                                             const std::string& permission,
                                             const std::string& resource,
                                             absl::Time deadline) {
  bool has = false;
  absl::Status s = RunReadOnly(
      pool_, Options(deadline, "checking permissions"),
      [&](pqxx::nontransaction& q) {
        has = q.exec_prepared(kHasGrant, principal, permission, resource)[0][0]
                  .as<bool>();
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return has;
}

absl::StatusOr<int64_t> PgAccessStore::CreateToken(
    const std::string& principal, const std::string& sha256_hex,
    const std::string& description, std::optional<absl::Time> expires_at,
    const AuditEvent& audit, absl::Time deadline) {
  int64_t id = 0;
  absl::Status s = RunTransaction(
      pool_, Options(deadline, "creating a token"), [&](Transaction& txn) {
        txn.exec_prepared(kEnsurePrincipal, principal);
        // 0 stands for "never expires" (NULLIF turns it into NULL).
        const int64_t micros = expires_at ? absl::ToUnixMicros(*expires_at) : 0;
        id = txn.exec_prepared(kInsertToken, sha256_hex, principal, description,
                               audit.actor, micros)[0][0]
                 .as<int64_t>();
        AppendAudit(txn, audit);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return id;
}

absl::StatusOr<TokenRecord> PgAccessStore::RevokeToken(int64_t id,
                                                       const AuditEvent& audit,
                                                       absl::Time deadline) {
  TokenRecord revoked;
  absl::Status s = RunTransaction(
      pool_, Options(deadline, "revoking a token"), [&](Transaction& txn) {
        pqxx::result updated = txn.exec_prepared(kRevokeToken, id);
        if (updated.empty()) {
          if (txn.exec_prepared(kTokenById, id).empty()) {
            return absl::NotFoundError(absl::StrCat("no token with id ", id));
          }
          return absl::FailedPreconditionError(
              absl::StrCat("token ", id, " is already revoked"));
        }
        revoked = TokenFromRow(updated[0]);
        AppendAudit(txn, audit);
        NotifyAccessChanged(txn);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return revoked;
}

absl::StatusOr<std::vector<TokenRecord>> PgAccessStore::ListTokens(
    const std::string& principal, absl::Time deadline) {
  std::vector<TokenRecord> tokens;
  absl::Status s = RunReadOnly(
      pool_, Options(deadline, "listing tokens"), [&](pqxx::nontransaction& q) {
        tokens.clear();
        for (const pqxx::row& r : q.exec_prepared(kListTokens, principal)) {
          tokens.push_back(TokenFromRow(r));
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return tokens;
}

absl::StatusOr<GrantResult> PgAccessStore::Grant(const std::string& principal,
                                                 const std::string& permission,
                                                 const std::string& resource,
                                                 const AuditEvent& audit,
                                                 absl::Time deadline) {
  GrantResult result;
  absl::Status s = RunTransaction(
      pool_, Options(deadline, "granting a permission"), [&](Transaction& txn) {
        txn.exec_prepared(kEnsurePrincipal, principal);
        for (int pass = 0; pass < kGrantPasses; ++pass) {
          pqxx::result inserted = txn.exec_prepared(
              kInsertGrant, principal, permission, resource, audit.actor);
          if (!inserted.empty()) {
            result = GrantResult{GrantFromRow(inserted[0]), true};
            AppendAudit(txn, audit);
            NotifyAccessChanged(txn);
            return absl::OkStatus();
          }
          pqxx::result held =
              txn.exec_prepared(kFindGrant, principal, permission, resource);
          if (!held.empty()) {
            result = GrantResult{GrantFromRow(held[0]), false};
            return absl::OkStatus();
          }
        }
        return absl::AbortedError(
            "the grant was revoked and granted again repeatedly meanwhile; "
            "retry");
      });
  if (!s.ok()) return s;
  return result;
}

absl::Status PgAccessStore::Revoke(const std::string& principal,
                                   const std::string& permission,
                                   const std::string& resource,
                                   const AuditEvent& audit,
                                   absl::Time deadline) {
  return RunTransaction(
      pool_, Options(deadline, "revoking a permission"), [&](Transaction& txn) {
        if (txn.exec_prepared(kDeleteGrant, principal, permission, resource)
                .empty()) {
          return absl::NotFoundError(absl::StrCat("principal '", principal,
                                                  "' holds no ", permission,
                                                  " on '", resource, "'"));
        }
        AppendAudit(txn, audit);
        NotifyAccessChanged(txn);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<GrantRecord>> PgAccessStore::ListGrants(
    const std::string& principal, absl::Time deadline) {
  std::vector<GrantRecord> grants;
  absl::Status s = RunReadOnly(
      pool_, Options(deadline, "listing grants"), [&](pqxx::nontransaction& q) {
        grants.clear();
        for (const pqxx::row& r : q.exec_prepared(kListGrants, principal)) {
          grants.push_back(GrantFromRow(r));
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return grants;
}

absl::Status PgAccessStore::BootstrapAdmin(const std::string& principal,
                                           const std::string& sha256_hex,
                                           const AuditEvent& audit,
                                           absl::Time deadline) {
  return RunTransaction(
      pool_, Options(deadline, "bootstrapping the first administrator"),
      [&](Transaction& txn) {
        txn.exec_prepared(kEnsurePrincipal, principal);
        txn.exec_prepared(kInsertGrant, principal, std::string("ADMIN"),
                          std::string(), audit.actor);
        txn.exec_prepared(kInsertToken, sha256_hex, principal,
                          std::string("bootstrap admin token"), audit.actor,
                          int64_t{0});
        AppendAudit(txn, audit);
        return absl::OkStatus();
      });
}

absl::StatusOr<bool> PgAccessStore::AnyPrincipal(absl::Time deadline) {
  bool any = false;
  absl::Status s =
      RunReadOnly(pool_, Options(deadline, "reading principals"),
                  [&](pqxx::nontransaction& q) {
                    any = q.exec_prepared(kAnyPrincipal)[0][0].as<bool>();
                    return absl::OkStatus();
                  });
  if (!s.ok()) return s;
  return any;
}

}  // namespace mcpreg::storage::pg
