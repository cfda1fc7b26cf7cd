// For integration test binaries on storage/pg: one private cluster per
// binary (a gtest environment) and a fresh, migrated database per test.
#ifndef MCPREG_TESTS_SUPPORT_PG_FIXTURE_H_
#define MCPREG_TESTS_SUPPORT_PG_FIXTURE_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/pg/connection_pool.h"
#include "storage/pg/migrations.h"
#include "storage/pg/statements.h"
#include "tests/support/pg_cluster.h"

namespace mcpreg::testing {

// The binary's cluster, started before the first test and stopped after the
// last (register with ::testing::AddGlobalTestEnvironment).
class PgClusterEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { cluster() = new PgCluster(); }
  void TearDown() override {
    delete cluster();
    cluster() = nullptr;
  }
  static PgCluster*& cluster() {
    static PgCluster* c = nullptr;
    return c;
  }
};

inline absl::Time Soon() { return absl::Now() + absl::Seconds(20); }

inline std::unique_ptr<storage::pg::ConnectionPool> NewPool(
    const std::string& conninfo, size_t max = 8) {
  storage::pg::PoolOptions options;
  options.conninfo = conninfo;
  options.max_connections = max;
  options.on_connect = &storage::pg::PrepareAll;
  return std::make_unique<storage::pg::ConnectionPool>(options);
}

// A new database named uniquely for this process, migrated.
class MigratedDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    db_ = absl::StrCat("t", getpid(), "_", n++);
    conninfo_ = PgClusterEnvironment::cluster()->CreateDatabase(db_);
    pool_ = NewPool(conninfo_);
    ASSERT_TRUE(storage::pg::Migrate(*pool_, Soon()).ok());
  }
  int64_t Count(const std::string& sql) {
    auto lease = pool_->Borrow(Soon());
    pqxx::nontransaction q(**lease);
    return q.exec(sql)[0][0].as<int64_t>();
  }
  PgCluster& cluster() { return *PgClusterEnvironment::cluster(); }

  std::string db_;
  std::string conninfo_;
  std::unique_ptr<storage::pg::ConnectionPool> pool_;
};

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_PG_FIXTURE_H_
