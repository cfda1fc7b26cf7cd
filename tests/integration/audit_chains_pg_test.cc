// The audit log's independent chains (migration 0006) against a real
// PostgreSQL: writers on different chains do not wait for each other, and
// what tampering with a chain, its head or the chain a row names does to
// VerifyAuditLog; a log written before 0006 still verifies after it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/pg/audit_batcher.h"
#include "storage/pg/audit_store.h"
#include "storage/pg/migrations.h"
#include "tests/support/pg_fixture.h"

namespace mcpreg::storage::pg {
namespace {

using ::testing::HasSubstr;
using testing::NewPool;
using testing::Soon;

const auto* const kEnv =
    ::testing::AddGlobalTestEnvironment(new testing::PgClusterEnvironment);

constexpr char kInsertRow[] =
    "INSERT INTO audit_log (actor, action, project_key, decision) "
    "VALUES ('slow', 'register', 'ai-research', 'ALLOW')";

AuditEvent Event(const std::string& actor) {
  AuditEvent e;
  e.actor = actor;
  e.action = "tool.check";
  e.project_key = "ai-research";
  e.tool = "read_file";
  e.decision = "ALLOW";
  return e;
}

class AuditChainsPgTest : public testing::MigratedDatabaseTest {
 protected:
  ChainVerdict Verify() {
    auto v = VerifyAuditChain(*pool_, Soon());
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : ChainVerdict{};
  }
  // As the database owner, with the tables' own triggers off: what a
  // tamperer with full access does.
  void Tamper(const std::string& sql) {
    ASSERT_EQ(cluster().Psql(
                  db_, absl::StrCat("ALTER TABLE audit_log DISABLE TRIGGER "
                                    "USER; ALTER TABLE audit_chains DISABLE "
                                    "TRIGGER USER; ",
                                    sql,
                                    "; ALTER TABLE audit_log ENABLE TRIGGER "
                                    "USER; ALTER TABLE audit_chains ENABLE "
                                    "TRIGGER USER;")),
              0);
  }
  // Rows on two chains: one written while another writer's transaction
  // holds its chain uncommitted (which must not hold this one up), then
  // that writer's. Returns the held writer's chain.
  int64_t RowsOnTwoChains() {
    auto other = NewPool(conninfo_, 1);
    auto lease = other->Borrow(Soon());
    EXPECT_TRUE(lease.ok());
    pqxx::work held(**lease);
    held.exec(kInsertRow);
    const absl::Time start = absl::Now();
    EXPECT_TRUE(AppendAudit(*pool_, Event("quick"), Soon()).ok());
    EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "it waited";
    const int64_t chain =
        held.exec("SELECT chain FROM audit_log WHERE actor = 'slow'")[0][0]
            .as<int64_t>();
    held.commit();
    EXPECT_TRUE(AppendAudit(*pool_, Event("after"), Soon()).ok());
    return chain;
  }
};

TEST_F(AuditChainsPgTest, AWriterHoldingItsChainDoesNotHoldUpOthers) {
  auto other = NewPool(conninfo_, 1);
  auto lease = other->Borrow(Soon());
  ASSERT_TRUE(lease.ok());
  pqxx::work held(**lease);
  held.exec(kInsertRow);  // its chain stays locked until it commits
  // A separate transaction and a group commit both get through: before
  // 0006 both waited for the held one (the one global chain).
  EXPECT_TRUE(AppendAudit(*pool_, Event("own-transaction"),
                          absl::Now() + absl::Seconds(5))
                  .ok());
  AuditBatcher batcher(*pool_);
  EXPECT_TRUE(
      batcher.Append(Event("group-commit"), absl::Now() + absl::Seconds(5))
          .ok());
  held.commit();
  EXPECT_GE(Count("SELECT count(DISTINCT chain) FROM audit_log"), 2);
  ChainVerdict v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.rows_checked, 3);
}

TEST_F(AuditChainsPgTest, ATransactionsRowsStayOnOneChainInOrder) {
  auto lease = pool_->Borrow(Soon());
  ASSERT_TRUE(lease.ok());
  {
    pqxx::work txn(**lease);
    for (int i = 0; i < 3; ++i) txn.exec(kInsertRow);
    txn.exec(absl::StrCat(kInsertRow, ", ('slow', 'register', '', 'DENY')"));
    txn.commit();
  }
  EXPECT_EQ(Count("SELECT count(DISTINCT chain) FROM audit_log"), 1);
  // The head names the newest row of the chain, moved once per statement.
  EXPECT_EQ(Count("SELECT count(*) FROM audit_chains h JOIN audit_log l "
                  "ON l.chain = h.chain AND l.id = h.last_id "
                  "AND l.row_hash = h.last_hash "
                  "WHERE l.id = (SELECT max(id) FROM audit_log)"),
            1);
  ChainVerdict v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.rows_checked, 5);
}

TEST_F(AuditChainsPgTest, RemovingAWholeChainIsNoticed) {
  const int64_t chain = RowsOnTwoChains();
  ASSERT_TRUE(Verify().intact);
  Tamper(absl::StrCat("DELETE FROM audit_log WHERE chain = ", chain));
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_THAT(v.problem,
              HasSubstr(absl::StrCat("newest rows are missing: chain ", chain,
                                     "'s head")));
}

TEST_F(AuditChainsPgTest, RemovingAChainsHeadIsNoticed) {
  const int64_t chain = RowsOnTwoChains();
  Tamper(absl::StrCat("DELETE FROM audit_chains WHERE chain = ", chain));
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_THAT(v.problem, HasSubstr(absl::StrCat("the head of chain ", chain,
                                                " is missing")));
}

TEST_F(AuditChainsPgTest, PassingAChainsRowsOffAsAnothersIsNoticed) {
  const int64_t chain = RowsOnTwoChains();
  const int64_t unused = Count(
      "SELECT min(c) FROM generate_series(1, 63) c "
      "WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE chain = c)");
  // The rows and the head moved together: every link within the chain still
  // holds, but it no longer starts where chain `unused` starts.
  Tamper(absl::StrCat(
      "UPDATE audit_log SET chain = ", unused, " WHERE chain = ", chain,
      "; UPDATE audit_chains t SET last_id = s.last_id, last_hash = "
      "s.last_hash FROM audit_chains s WHERE t.chain = ",
      unused, " AND s.chain = ", chain,
      "; UPDATE audit_chains SET last_id = 0, last_hash = CASE WHEN chain = 0 "
      "THEN '' ELSE 'chain ' || chain END WHERE chain = ",
      chain));
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_THAT(v.problem, HasSubstr("does not link"));
}

TEST_F(AuditChainsPgTest, ARowNamingNoChainIsNoticed) {
  ASSERT_TRUE(AppendAudit(*pool_, Event("one"), Soon()).ok());
  Tamper("UPDATE audit_log SET chain = 99");
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_THAT(v.problem, HasSubstr("names chain 99, which does not exist"));
}

TEST_F(AuditChainsPgTest, ARowPastItsChainsHeadIsNoticed) {
  ASSERT_TRUE(AppendAudit(*pool_, Event("one"), Soon()).ok());
  // Written around the trigger: no head will ever cover it.
  Tamper(
      "INSERT INTO audit_log (id, chain, actor, action, decision, prev_hash, "
      "row_hash) VALUES (1000000000, 3, 'x', 'register', 'ALLOW', 'chain 3', "
      "'f')");
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_id, 1000000000);
  EXPECT_THAT(v.problem, HasSubstr("lies past the head of its chain 3"));
}

// Verification reads no snapshot across its scan, while writers go on: what
// commits meanwhile must not look like a break.
TEST_F(AuditChainsPgTest, VerifyingWhileWritersAppendFindsTheLogIntact) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  AuditBatcher batcher(*pool_);
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      while (!stop) {
        absl::Status s = t % 2 ? batcher.Append(Event("batched"), Soon())
                               : AppendAudit(*pool_, Event("own"), Soon());
        EXPECT_TRUE(s.ok()) << s;
      }
    });
  }
  for (int i = 0; i < 10; ++i) {
    ChainVerdict v = Verify();
    EXPECT_TRUE(v.intact) << "pass " << i << ": " << v.problem;
  }
  stop = true;
  for (auto& w : writers) w.join();
  EXPECT_GE(Count("SELECT count(DISTINCT chain) FROM audit_log"), 2);
  EXPECT_TRUE(Verify().intact);
}

// Creates schema_migrations and applies, as an older or other build would
// have, every migration `wanted` accepts.
void ApplyMigrationsAsAnotherBuild(const std::string& conninfo,
                                   const std::function<bool(int)>& wanted) {
  pqxx::connection c(conninfo);
  pqxx::work txn(c);
  txn.exec(
      "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name "
      "text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
  for (const Migration& m : AllMigrations()) {
    if (!wanted(m.version)) continue;
    txn.exec(m.sql);
    txn.exec_params("INSERT INTO schema_migrations VALUES ($1, $2)", m.version,
                    std::string(m.name));
  }
  txn.commit();
}

// Migrates with connections that prepare nothing: the statements of this
// build need the schema it is about to create.
absl::Status MigrateBare(const std::string& conninfo) {
  PoolOptions options;
  options.conninfo = conninfo;
  options.max_connections = 1;
  ConnectionPool bare(options);
  return Migrate(bare, Soon()).status();
}

// A database written before 0006 (one chain, one head) migrates with its
// rows unchanged; they verify as chain 0 and new rows join the chains.
TEST(AuditChainsMigrationTest, AnOlderLogStillVerifiesAfterMigrating) {
  testing::PgCluster& cluster = *testing::PgClusterEnvironment::cluster();
  const std::string db = absl::StrCat("m", getpid());
  const std::string conninfo = cluster.CreateDatabase(db);
  ApplyMigrationsAsAnotherBuild(conninfo, [](int v) { return v <= 5; });
  {
    pqxx::connection c(conninfo);
    for (int i = 0; i < 20; ++i) {
      pqxx::work one(c);
      one.exec(kInsertRow);
      one.commit();
    }
    pqxx::work many(c);
    many.exec(
        "INSERT INTO audit_log (actor, action, decision) "
        "SELECT 'batch', 'tool.check', 'ALLOW' FROM generate_series(1, 30)");
    many.commit();
  }
  ASSERT_TRUE(MigrateBare(conninfo).ok());
  auto pool = NewPool(conninfo);
  auto before = VerifyAuditChain(*pool, Soon());
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_TRUE(before->intact) << before->problem;
  // 20 rows as written... and 30 in one statement, all on chain 0 now.
  EXPECT_EQ(before->rows_checked, 50);
  AuditBatcher batcher(*pool);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(batcher.Append(Event("after-0006"), Soon()).ok());
  }
  ASSERT_TRUE(AppendAudit(*pool, Event("own-transaction"), Soon()).ok());
  auto after = VerifyAuditChain(*pool, Soon());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->intact) << after->problem;
  EXPECT_EQ(after->rows_checked, 61);
}

// A database a build from another branch migrated past a version it did not
// have (here: every version but 6) gets the missing one, not a skip.
TEST(AuditChainsMigrationTest, AMissingEarlierMigrationIsAppliedNotSkipped) {
  testing::PgCluster& cluster = *testing::PgClusterEnvironment::cluster();
  const std::string conninfo =
      cluster.CreateDatabase(absl::StrCat("gap", getpid()));
  ApplyMigrationsAsAnotherBuild(conninfo, [](int v) { return v != 6; });
  ASSERT_TRUE(MigrateBare(conninfo).ok());
  auto pool = NewPool(conninfo);
  ASSERT_TRUE(AppendAudit(*pool, Event("after"), Soon()).ok());
  auto verdict = VerifyAuditChain(*pool, Soon());
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_TRUE(verdict->intact) << verdict->problem;
  pqxx::connection c(conninfo);
  pqxx::nontransaction q(c);
  EXPECT_EQ(q.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>(),
            KnownSchemaVersion());
}

}  // namespace
}  // namespace mcpreg::storage::pg
