// Schema migrations: numbered SQL files (storage/pg/migrations/), embedded at
// build time, applied in order at start-up under an advisory lock so several
// replicas can start at once. Each runs in its own transaction and is recorded
// in schema_migrations; a database newer than the plugin is refused.
#ifndef MCPREG_STORAGE_PG_MIGRATIONS_H_
#define MCPREG_STORAGE_PG_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/pg/connection_pool.h"

namespace mcpreg::storage::pg {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Every migration this build knows, by ascending version.
const std::vector<Migration>& AllMigrations();

// The newest version this build knows: the one it migrates a database to
// and the one its health probe expects to find.
int KnownSchemaVersion();

// The database's schema version (0 before any migration): read-only, so
// the health probe may run it too.
inline constexpr char kSchemaVersionQuery[] =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";

// Brings the database to the newest known version; returns it. FAILED_
// PRECONDITION when the database is newer than this plugin.
absl::StatusOr<int> Migrate(ConnectionPool& pool, absl::Time deadline);

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_MIGRATIONS_H_
