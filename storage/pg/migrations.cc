#include "storage/pg/migrations.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/pg/pg_status.h"

namespace mcpreg::storage::pg {
namespace {

// An arbitrary constant that names "mcpreg schema migration" among advisory
// locks; every replica uses the same one.
constexpr int64_t kMigrationLockKey = 0x6d6370726567;  // "mcpreg"

constexpr char kCreateVersionTable[] = R"sql(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  ))sql";

absl::StatusOr<int> MigrateLocked(pqxx::connection& c) {
  {
    pqxx::work txn(c);
    txn.exec(kCreateVersionTable);
    txn.commit();
  }
  // Which versions are applied, not just the newest: a database that a
  // build from another branch migrated may have a later version without an
  // earlier one, which must not be skipped for good.
  std::set<int> applied;
  {
    pqxx::nontransaction q(c);
    for (const pqxx::row& r : q.exec("SELECT version FROM schema_migrations")) {
      applied.insert(r[0].as<int>());
    }
  }
  int current = applied.empty() ? 0 : *applied.rbegin();
  const auto& all = AllMigrations();
  const int newest = KnownSchemaVersion();
  if (current > newest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database schema is at version ", current,
        " but this plugin knows versions up to ", newest,
        "; upgrade the plugin (a newer replica has migrated this database)"));
  }
  for (const Migration& m : all) {
    if (applied.count(m.version) > 0) continue;
    pqxx::work txn(c);
    txn.exec(m.sql);
    txn.exec_params(
        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
        m.version, std::string(m.name));
    txn.commit();
    current = std::max(current, m.version);
  }
  return current;
}

}  // namespace

int KnownSchemaVersion() {
  const auto& all = AllMigrations();
  return all.empty() ? 0 : all.back().version;
}

absl::StatusOr<int> Migrate(ConnectionPool& pool, absl::Time deadline) {
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Borrow(deadline);
  if (!lease.ok()) return lease.status();
  pqxx::connection& c = **lease;
  // Migrations, and the wait for another replica's, may take longer than
  // the pool's statement_timeout allows a call; the connection is closed
  // afterwards, so the setting stays its own.
  lease->Discard();
  try {
    // Session-level lock: held across the per-migration transactions, and
    // released as the connection closes. Waited for until the deadline: a
    // replica stuck mid-migration must not hang every other one's start.
    pqxx::nontransaction(c).exec(
        absl::StrCat("SET statement_timeout = ",
                     StatementTimeoutMs(deadline - absl::Now())));
    pqxx::nontransaction(c).exec_params("SELECT pg_advisory_lock($1)",
                                        kMigrationLockKey);
    pqxx::nontransaction(c).exec("SET statement_timeout = 0");
    return MigrateLocked(c);
  } catch (const std::exception& e) {
    return StatusFromException(e, "applying database migrations");
  }
}

}  // namespace mcpreg::storage::pg
