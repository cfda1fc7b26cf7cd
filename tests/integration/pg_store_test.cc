// storage/pg against a real PostgreSQL the test starts: migrations, the
// register/unregister semantics, the registration race, append-only audit,
// and the pool across a database restart.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "storage/pg/access_store.h"
#include "storage/pg/audit_store.h"
#include "storage/pg/call_interrupt.h"
#include "storage/pg/connection_pool.h"
#include "storage/pg/migrations.h"
#include "storage/pg/pg_audit_log.h"
#include "storage/pg/pg_status.h"
#include "storage/pg/server_store.h"
#include "storage/pg/statements.h"
#include "storage/pg/transaction.h"
#include "tests/support/eventually.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/pg_fixture.h"

namespace mcpreg::storage::pg {
namespace {

using ::testing::HasSubstr;

using testing::Eventually;
using testing::NewPool;
using testing::Soon;

const auto* const kEnv =
    ::testing::AddGlobalTestEnvironment(new testing::PgClusterEnvironment);

// A fresh, migrated database per test.
class PgStoreTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    servers_ = std::make_unique<PgServerStore>(*pool_);
  }

  NewServerVersion Version(const std::string& version,
                           const std::string& path = "") {
    NewServerVersion v;
    v.project_key = "ai-research";
    v.name = "mcp-server";
    v.display_name = "pypi:ai-pypi-local:mcp-server";
    v.repo_key = "ai-pypi-local";
    v.package_type = "pypi";
    v.version = version;
    v.repo_path = path.empty()
                      ? absl::StrCat("org/project/mcp-server/", version,
                                     "/mcp_server-", version, ".tar.gz")
                      : path;
    v.artifact_sha256 = std::string(64, 'a');
    v.artifact_size = 123;
    v.description = "demo";
    v1::EnvironmentVariable env;
    env.set_name("API_URL");
    env.set_is_required(true);
    v.environment_variables.push_back(env);
    v.actor = "ci-bot";
    return v;
  }
  AuditEvent Audit(const std::string& action) {
    AuditEvent e;
    e.actor = "ci-bot";
    e.action = action;
    e.project_key = "ai-research";
    e.server = "pypi:ai-pypi-local:mcp-server";
    e.decision = "ALLOW";
    return e;
  }
  std::unique_ptr<PgServerStore> servers_;
};

TEST_F(PgStoreTest, MigrationsAreIdempotentAndRecorded) {
  auto again = Migrate(*pool_, Soon());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, AllMigrations().back().version);
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations"),
            static_cast<int64_t>(AllMigrations().size()));
}

TEST_F(PgStoreTest, ConcurrentReplicasMigrateOneDatabaseSafely) {
  const std::string fresh = cluster().CreateDatabase(db_ + "_fresh");
  std::vector<std::thread> replicas;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    replicas.emplace_back([&] {
      auto pool = NewPool(fresh, 1);
      if (Migrate(*pool, Soon()).ok()) ++ok;
    });
  }
  for (auto& t : replicas) t.join();
  EXPECT_EQ(ok.load(), 4);
}

TEST_F(PgStoreTest, RefusesADatabaseNewerThanThePlugin) {
  ASSERT_EQ(cluster().Psql(
                db_, "INSERT INTO schema_migrations VALUES (999, 'future')"),
            0);
  auto version = Migrate(*pool_, Soon());
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(version.status().message()),
              HasSubstr("schema is at version 999"));
}

TEST_F(PgStoreTest, RegisterIsIdempotentAndVersionsBecomeLatest) {
  auto first = servers_->Register(Version("1.0.0"), Audit("register"), Soon());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created);
  auto retry = servers_->Register(Version("1.0.0"), Audit("register"), Soon());
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->created);

  auto second = servers_->Register(Version("1.1.0"), Audit("register"), Soon());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->created);
  auto page = servers_->Get("ai-research", "mcp-server", 20, 0, Soon());
  ASSERT_TRUE(page.ok());
  const v1::Server& server = page->server;
  EXPECT_EQ(server.latest_version(), "1.1.0");
  EXPECT_EQ(server.version_count(), 2u);
  ASSERT_EQ(server.versions_size(), 2);
  EXPECT_EQ(server.versions(0).version(), "1.1.0");  // the latest first
  ASSERT_EQ(server.versions(1).environment_variables_size(), 1);
  EXPECT_EQ(server.versions(1).environment_variables(0).name(), "API_URL");
  EXPECT_TRUE(server.versions(1).environment_variables(0).is_required());
  EXPECT_EQ(page->next_before, 0);
  // Found by display name too.
  EXPECT_TRUE(
      servers_
          ->Get("ai-research", "pypi:ai-pypi-local:mcp-server", 20, 0, Soon())
          .ok());
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action='register'"), 2);
}

// Register answers with the record it wrote instead of reading it again: what
// it returns (the server and the one version registered) must be what a
// later read finds, for a new server, a new version of an existing one, and
// an identical retry alike.
TEST_F(PgStoreTest, RegisterReturnsTheServerAsCommitted) {
  const auto expect_as_stored = [&](const absl::StatusOr<Registered>& r) {
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->server.versions_size(), 1);
    auto stored = servers_->GetVersion("ai-research", "mcp-server",
                                       r->server.versions(0).version(), Soon());
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(r->server.SerializeAsString(), stored->SerializeAsString())
        << "returned:\n"
        << r->server.DebugString() << "stored:\n"
        << stored->DebugString();
  };
  auto first = servers_->Register(Version("1.0.0"), Audit("register"), Soon());
  expect_as_stored(first);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->server.latest_version(), "1.0.0");
  EXPECT_EQ(first->server.version_count(), 1u);

  NewServerVersion newer = Version("1.1.0");
  newer.description = "newer";
  auto second = servers_->Register(newer, Audit("register"), Soon());
  expect_as_stored(second);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->server.versions(0).version(), "1.1.0");
  EXPECT_EQ(second->server.description(), "newer");
  EXPECT_EQ(second->server.latest_version(), "1.1.0");
  EXPECT_EQ(second->server.version_count(), 2u);

  auto retry = servers_->Register(Version("1.0.0"), Audit("register"), Soon());
  expect_as_stored(retry);
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->server.versions(0).version(), "1.0.0");
  EXPECT_EQ(retry->server.latest_version(), "1.1.0");  // unchanged
  EXPECT_EQ(retry->server.description(), "newer");     // the latest's
}

// "Latest" is the package's own highest final release, not the version
// registered last: a backport or a release candidate registered later does
// not move every client configuration onto it.
TEST_F(PgStoreTest, TheLatestIsTheHighestFinalReleaseNotTheLastRegistered) {
  const auto register_version = [&](const std::string& version) {
    NewServerVersion v = Version(version);
    v.description = absl::StrCat("release ", version);
    auto r = servers_->Register(v, Audit("register"), Soon());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->server : v1::Server();
  };
  EXPECT_EQ(register_version("1.0rc1").latest_version(), "1.0rc1");
  EXPECT_EQ(register_version("1.0").latest_version(), "1.0");
  EXPECT_EQ(register_version("2.0").latest_version(), "2.0");
  const v1::Server backport = register_version("1.1");
  EXPECT_EQ(backport.latest_version(), "2.0");
  EXPECT_EQ(backport.description(), "release 2.0");
  EXPECT_EQ(backport.versions(0).version(), "1.1");
  EXPECT_EQ(register_version("3.0rc1").latest_version(), "2.0");

  auto page = servers_->Get("ai-research", "mcp-server", 20, 0, Soon());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->server.description(), "release 2.0");
  std::vector<std::string> order;
  for (const auto& v : page->server.versions()) order.push_back(v.version());
  // The latest, then the others by registration, newest first.
  EXPECT_THAT(order,
              ::testing::ElementsAre("2.0", "3.0rc1", "1.1", "1.0", "1.0rc1"));
}

TEST_F(PgStoreTest, VersionsArePagedAfterTheLatest) {
  constexpr int kVersions = 23;
  for (int i = 1; i <= kVersions; ++i) {
    ASSERT_TRUE(servers_
                    ->Register(Version(absl::StrCat("1.0.", i)),
                               Audit("register"), Soon())
                    .ok());
  }
  std::vector<std::string> seen;
  int64_t before = 0;
  int pages = 0;
  do {
    auto page = servers_->Get("ai-research", "mcp-server", 5, before, Soon());
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->server.versions_size(), 5);
    EXPECT_EQ(page->server.version_count(), static_cast<uint32_t>(kVersions));
    for (const auto& v : page->server.versions()) seen.push_back(v.version());
    before = page->next_before;
    ASSERT_LT(++pages, 10);
  } while (before != 0);
  EXPECT_EQ(pages, 5);
  ASSERT_EQ(seen.size(), static_cast<size_t>(kVersions));
  for (int i = 0; i < kVersions; ++i) {
    EXPECT_EQ(seen[i], absl::StrCat("1.0.", kVersions - i));
  }
  // A page of one holds the latest alone, and says more follow.
  auto one = servers_->Get("ai-research", "mcp-server", 1, 0, Soon());
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->server.versions_size(), 1);
  EXPECT_EQ(one->server.versions(0).version(), "1.0.23");
  EXPECT_NE(one->next_before, 0);
}

TEST_F(PgStoreTest, GetVersionNamesWhatIsMissing) {
  ASSERT_TRUE(
      servers_->Register(Version("1.0.0"), Audit("register"), Soon()).ok());
  auto latest = servers_->GetVersion("ai-research", "mcp-server", "", Soon());
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->versions(0).version(), "1.0.0");
  auto no_version =
      servers_->GetVersion("ai-research", "mcp-server", "9.9.9", Soon());
  EXPECT_EQ(no_version.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_version.status().message()),
              HasSubstr("has no version '9.9.9'"));
  auto no_server = servers_->GetVersion("ai-research", "nope", "", Soon());
  EXPECT_EQ(no_server.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_server.status().message()),
              HasSubstr("no server named 'nope'"));
}

TEST_F(PgStoreTest, SameVersionWithAnotherArtifactIsAlreadyExists) {
  ASSERT_TRUE(
      servers_->Register(Version("1.0.0"), Audit("register"), Soon()).ok());
  auto clash = servers_->Register(Version("1.0.0", "elsewhere/x-1.0.0.tar.gz"),
                                  Audit("register"), Soon());
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(clash.status().message()),
              HasSubstr("different artifact"));
}

TEST_F(PgStoreTest, SameNameFromAnotherRepositoryIsAlreadyExists) {
  ASSERT_TRUE(
      servers_->Register(Version("1.0.0"), Audit("register"), Soon()).ok());
  NewServerVersion other = Version("2.0.0");
  other.repo_key = "other-pypi-local";
  other.display_name = "pypi:other-pypi-local:mcp-server";
  auto clash = servers_->Register(other, Audit("register"), Soon());
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(clash.status().message()),
              HasSubstr("from repository 'ai-pypi-local'"));
}

TEST_F(PgStoreTest, ConcurrentRegistrationsOfOneNameYieldOneRecord) {
  constexpr int kRacers = 12;
  std::atomic<int> created{0}, existed{0}, failed{0};
  std::vector<std::thread> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&] {
      auto r = servers_->Register(Version("1.0.0"), Audit("register"), Soon());
      if (!r.ok()) {
        ++failed;
      } else if (r->created) {
        ++created;
      } else {
        ++existed;
      }
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(existed.load(), kRacers - 1);
  EXPECT_EQ(Count("SELECT count(*) FROM servers"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM server_versions"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log"), 1);
}

TEST_F(PgStoreTest, UnregisterRemovesVersionsAndPoliciesAtOnce) {
  ASSERT_TRUE(
      servers_->Register(Version("1.0.0"), Audit("register"), Soon()).ok());
  ASSERT_TRUE(
      servers_->Register(Version("1.1.0"), Audit("register"), Soon()).ok());
  ASSERT_EQ(cluster().Psql(db_,
                           "INSERT INTO tool_policies (server_id, mode, "
                           "updated_by) SELECT id, 'ALLOW_ALL', 'x' FROM "
                           "servers"),
            0);
  auto removed =
      servers_->Unregister("ai-research", "pypi:ai-pypi-local:mcp-server",
                           Audit("unregister"), Soon());
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->name, "mcp-server");
  EXPECT_EQ(removed->versions_removed, 2u);
  EXPECT_EQ(Count("SELECT count(*) FROM servers"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM server_versions"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM tool_policies"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action='unregister' "
                  "AND server='pypi:ai-pypi-local:mcp-server'"),
            1);
  auto again = servers_->Unregister("ai-research", "mcp-server",
                                    Audit("unregister"), Soon());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
}

// Of concurrent unregisters of one server exactly one removes it (and is
// audited); the others find it gone.
TEST_F(PgStoreTest, ConcurrentUnregistersRemoveOnceAndAuditOnce) {
  ASSERT_TRUE(
      servers_->Register(Version("1.0.0"), Audit("register"), Soon()).ok());
  constexpr int kRacers = 12;
  std::atomic<int> removed{0}, not_found{0}, other{0};
  std::vector<std::thread> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&] {
      auto r = servers_->Unregister("ai-research", "mcp-server",
                                    Audit("unregister"), Soon());
      if (r.ok()) {
        ++removed;
      } else if (r.status().code() == absl::StatusCode::kNotFound) {
        ++not_found;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(removed.load(), 1);
  EXPECT_EQ(not_found.load(), kRacers - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = "
                  "'unregister'"),
            1);
}

// A registration racing an unregister of its server lands either before it
// (and is removed with it) or after it (and creates the server anew), never
// in between and never as an error.
TEST_F(PgStoreTest, RegistrationsRacingUnregisterLandOnOneSideOfIt) {
  for (int round = 0; round < 20; ++round) {
    ASSERT_TRUE(
        servers_->Register(Version("1.0.0"), Audit("register"), Soon()).ok());
    absl::StatusOr<Registered> registered = absl::UnknownError("not run");
    absl::StatusOr<UnregisterResult> removed = absl::UnknownError("not run");
    std::thread a([&] {
      registered = servers_->Register(Version(absl::StrCat("2.0.", round)),
                                      Audit("register"), Soon());
    });
    std::thread b([&] {
      removed = servers_->Unregister("ai-research", "mcp-server",
                                     Audit("unregister"), Soon());
    });
    a.join();
    b.join();
    ASSERT_TRUE(registered.ok()) << registered.status();
    ASSERT_TRUE(removed.ok()) << removed.status();
    const int64_t left = Count("SELECT count(*) FROM server_versions");
    if (removed->versions_removed == 2) {  // registered first
      EXPECT_EQ(left, 0);
    } else {  // unregistered first: the registration made a new server
      EXPECT_EQ(removed->versions_removed, 1u);
      EXPECT_EQ(registered->server.version_count(), 1u);
      EXPECT_EQ(left, 1);
      ASSERT_TRUE(servers_
                      ->Unregister("ai-research", "mcp-server",
                                   Audit("unregister"), Soon())
                      .ok());
    }
  }
}

TEST_F(PgStoreTest, ListPagesByNameWithinReadableRepositories) {
  for (const char* name : {"a-srv", "b-srv", "c-srv", "d-srv"}) {
    NewServerVersion v = Version("1.0.0");
    v.name = name;
    v.display_name = absl::StrCat("pypi:ai-pypi-local:", name);
    ASSERT_TRUE(servers_->Register(v, Audit("register"), Soon()).ok());
  }
  auto page =
      servers_->List("ai-research", {"ai-pypi-local"}, "", 3, "", Soon());
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->servers.size(), 3u);
  EXPECT_EQ(page->last_name, "c-srv");
  auto rest = servers_->List("ai-research", {"ai-pypi-local"}, page->last_name,
                             3, "", Soon());
  ASSERT_EQ(rest->servers.size(), 1u);
  EXPECT_EQ(rest->servers[0].name(), "d-srv");
  EXPECT_EQ(rest->last_name, "");
  auto none =
      servers_->List("ai-research", {"someone-elses"}, "", 3, "", Soon());
  EXPECT_TRUE(none->servers.empty());
}

// A refusal is recorded even when the caller's deadline has passed: the
// row has a budget of its own.
TEST_F(PgStoreTest, ARowOfItsOwnIsWrittenPastTheCallersDeadline) {
  PgAuditLog log(*pool_);
  AuditEvent denial = Audit("register");
  denial.decision = "DENY";
  ASSERT_TRUE(log.Append(denial, absl::Now() - absl::Seconds(1)).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE decision = 'DENY'"), 1);
}

TEST_F(PgStoreTest, AuditLogRefusesUpdateDeleteAndTruncate) {
  ASSERT_TRUE(AppendAudit(*pool_, Audit("register"), Soon()).ok());
  EXPECT_NE(cluster().Psql(db_, "UPDATE audit_log SET actor = 'mallory'"), 0);
  EXPECT_NE(cluster().Psql(db_, "DELETE FROM audit_log"), 0);
  EXPECT_NE(cluster().Psql(db_, "TRUNCATE audit_log"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE actor = 'ci-bot'"), 1);
}

TEST_F(PgStoreTest, PoolExhaustionWaitsUntilTheDeadline) {
  auto pool = NewPool(conninfo_, 1);
  auto held = pool->Borrow(Soon());
  ASSERT_TRUE(held.ok());
  const absl::Time start = absl::Now();
  auto second = pool->Borrow(absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
}

TEST_F(PgStoreTest, BootstrapAdminIsAllOrNothing) {
  PgAccessStore access(*pool_);
  // A token row the database refuses (not a SHA-256) takes the principal and
  // the grant down with it: the next start can bootstrap again.
  EXPECT_FALSE(
      access.BootstrapAdmin("admin", "not-a-digest", Audit("bootstrap"), Soon())
          .ok());
  EXPECT_FALSE(*access.AnyPrincipal(Soon()));
  EXPECT_EQ(Count("SELECT count(*) FROM grants"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log"), 0);

  const std::string digest(64, 'c');
  ASSERT_TRUE(
      access.BootstrapAdmin("admin", digest, Audit("bootstrap"), Soon()).ok());
  EXPECT_TRUE(*access.AnyPrincipal(Soon()));
  EXPECT_TRUE(*access.HasGrant("admin", "ADMIN", "", Soon()));
  auto token = access.FindToken(digest, Soon());
  ASSERT_TRUE(token.ok() && token->has_value());
  EXPECT_EQ((*token)->principal, "admin");
}

TEST_F(PgStoreTest, AccessTokensAndGrants) {
  PgAccessStore access(*pool_);
  auto id = access.CreateToken("ci-bot", std::string(64, 'b'), "ci",
                               std::nullopt, Audit("token.create"), Soon());
  ASSERT_TRUE(id.ok()) << id.status();
  auto found = access.FindToken(std::string(64, 'b'), Soon());
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->principal, "ci-bot");
  EXPECT_FALSE((*found)->expires_at.has_value());
  EXPECT_FALSE(*access.HasGrant("ci-bot", "ALLOW", "ai-research", Soon()));
  ASSERT_TRUE(
      access.Grant("ci-bot", "ALLOW", "ai-research", Audit("grant"), Soon())
          .ok());
  EXPECT_TRUE(*access.HasGrant("ci-bot", "ALLOW", "ai-research", Soon()));
  EXPECT_FALSE(*access.HasGrant("ci-bot", "ALLOW", "other", Soon()));
  ASSERT_TRUE(access.Grant("root", "ADMIN", "", Audit("grant"), Soon()).ok());
  EXPECT_TRUE(*access.HasGrant("root", "READ", "anything", Soon()));
  ASSERT_TRUE(access.RevokeToken(*id, Audit("token.revoke"), Soon()).ok());
  EXPECT_TRUE((*access.FindToken(std::string(64, 'b'), Soon()))->revoked_at);
  auto again = access.RevokeToken(*id, Audit("token.revoke"), Soon());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()),
              HasSubstr("already revoked"));
  EXPECT_EQ(
      access.RevokeToken(9999, Audit("token.revoke"), Soon()).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = "
                  "'token.revoke'"),
            1);
  // Granting what is held changes nothing and audits nothing.
  auto regrant =
      access.Grant("ci-bot", "ALLOW", "ai-research", Audit("grant"), Soon());
  ASSERT_TRUE(regrant.ok()) << regrant.status();
  EXPECT_FALSE(regrant->created);
  EXPECT_EQ(regrant->grant.created_by, "ci-bot");
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'grant'"), 2);
}

// Restarts the cluster; ctest runs each test in a process of its own.
TEST_F(PgStoreTest, DatabaseRestartIsUnavailableThenHeals) {
  ASSERT_TRUE(
      servers_->Register(Version("1.0.0"), Audit("register"), Soon()).ok());
  cluster().Stop("fast");
  auto during = servers_->Register(Version("2.0.0"), Audit("register"), Soon());
  EXPECT_EQ(during.status().code(), absl::StatusCode::kUnavailable)
      << during.status();
  EXPECT_THAT(std::string(during.status().message()),
              HasSubstr("nothing was written"));
  cluster().Start();
  auto after = servers_->Register(Version("2.0.0"), Audit("register"), Soon());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->created);
  EXPECT_EQ(Count("SELECT count(*) FROM server_versions"), 2);
}

// What the server says when it goes away — admin or crash shutdown, still
// starting up, a connection exception — reads as the outage it is, whether
// libpq reports it as an error or as a closed socket.
TEST(PgStatusTest, TheServerGoingAwayIsUnavailableAndItsConnectionLost) {
  for (const char* state : {"57P01", "57P02", "57P03", "08006"}) {
    const pqxx::sql_error e("FATAL:  terminating connection\nDETAIL: x",
                            "SELECT 1", state);
    const absl::Status status = StatusFromException(e, "reading");
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << state;
    // The caller reads that the database is unavailable; libpq's words
    // (which name hosts and sockets) are for the operator's log only.
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("reading: database unavailable;"));
    EXPECT_THAT(std::string(status.message()),
                ::testing::Not(HasSubstr("FATAL")));
    EXPECT_EQ(ErrorDetail(status), "FATAL:  terminating connection");
    EXPECT_TRUE(IsConnectionLost(e)) << state;
  }
  const pqxx::sql_error other("ERROR:  division by zero", "SELECT 1/0",
                              "22012");
  EXPECT_EQ(StatusFromException(other, "reading").code(),
            absl::StatusCode::kInternal);
  EXPECT_FALSE(IsConnectionLost(other));
}

TEST(PgStatusTest, ConnectTimeoutIsAddedUnlessTheOperatorSetOne) {
  EXPECT_EQ(WithConnectTimeout("host=db dbname=x", 5),
            "host=db dbname=x connect_timeout=5");
  EXPECT_EQ(WithConnectTimeout("", 5), "connect_timeout=5");
  EXPECT_EQ(WithConnectTimeout("postgresql://db/x", 5),
            "postgresql://db/x?connect_timeout=5");
  EXPECT_EQ(WithConnectTimeout("postgres://db/x?sslmode=require", 5),
            "postgres://db/x?sslmode=require&connect_timeout=5");
  EXPECT_EQ(WithConnectTimeout("host=db connect_timeout=30", 5),
            "host=db connect_timeout=30");
}

// A "database" that accepts the connection and never answers (a listening
// socket nobody accepts from): without connect_timeout libpq would wait for
// its startup reply for ever, holding whoever asked.
TEST(PgStatusTest, ADatabaseThatNeverAnswersIsGivenUpOn) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string conninfo = WithConnectTimeout(
      absl::StrCat("host=127.0.0.1 port=", ntohs(addr.sin_port), " dbname=x"),
      1);
  const absl::Time start = absl::Now();
  EXPECT_THROW(pqxx::connection c(conninfo), pqxx::broken_connection);
  std::cout << "gave up after " << absl::Now() - start << "\n";
  close(listener);
}

// A statement in flight when PostgreSQL shuts down is told so with an error
// (57P01) before the socket closes; it is the same outage as a closed
// connection and must read as one — UNAVAILABLE, not INTERNAL — and the
// connection must not be pooled again.
TEST_F(PgStoreTest, AStatementCutOffByAShutdownIsUnavailable) {
  TransactionOptions options;
  options.deadline = absl::Now() + absl::Seconds(60);
  options.what = "sleeping";
  options.max_attempts = 1;
  absl::Status status;
  std::thread sleeper([&] {
    status = RunTransaction(*pool_, options, [](Transaction& txn) {
      txn.exec("SELECT pg_sleep(30)");
      return absl::OkStatus();
    });
  });
  Eventually([&] {
    return Count(
               "SELECT count(*) FROM pg_stat_activity "
               "WHERE query = 'SELECT pg_sleep(30)'") > 0;
  });
  cluster().Stop("fast");
  sleeper.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  cluster().Start();
  auto after = servers_->Register(Version("1.0.0"), Audit("register"), Soon());
  EXPECT_TRUE(after.ok()) << after.status();
}

// A pool whose sessions cancel any statement after `timeout`.
std::unique_ptr<ConnectionPool> PoolWithStatementTimeout(
    const std::string& conninfo, absl::Duration timeout) {
  PoolOptions options;
  options.conninfo = conninfo;
  options.max_connections = 2;
  options.statement_timeout = timeout;
  options.on_connect = &PrepareAll;
  return std::make_unique<ConnectionPool>(options);
}

absl::Status SleepIn(ConnectionPool& pool, absl::Time deadline, bool write) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = "sleeping";
  options.max_attempts = 1;
  if (write) {
    return RunTransaction(pool, options, [](Transaction& txn) {
      txn.exec("SELECT pg_sleep(5)");
      return absl::OkStatus();
    });
  }
  return RunReadOnly(pool, options, [](pqxx::nontransaction& q) {
    q.exec("SELECT pg_sleep(5)");
    return absl::OkStatus();
  });
}

// The database stops working for a caller who is gone: a transaction's
// statements end at its deadline, even when the pool allows them longer.
TEST_F(PgStoreTest, ATransactionsStatementsEndAtItsDeadline) {
  auto pool = PoolWithStatementTimeout(conninfo_, absl::Seconds(60));
  absl::Status status =
      SleepIn(*pool, absl::Now() + absl::Milliseconds(300), /*write=*/true);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_THAT(status.message(), HasSubstr("ran out of time"));
}

// Reads, and transactions without a deadline, are bounded by the pool's
// statement_timeout.
TEST_F(PgStoreTest, ThePoolsStatementTimeoutBoundsReadsAndUnboundedWrites) {
  auto pool = PoolWithStatementTimeout(conninfo_, absl::Milliseconds(300));
  EXPECT_EQ(
      SleepIn(*pool, absl::Now() + absl::Seconds(60), /*write=*/false).code(),
      absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(SleepIn(*pool, absl::InfiniteFuture(), /*write=*/true).code(),
            absl::StatusCode::kDeadlineExceeded);
}

// A limit the operator set in the database (here ALTER DATABASE … SET) and
// shorter than ours is kept, for reads and for a transaction with a far
// deadline alike. Ours still applies when it is the shorter one.
TEST_F(PgStoreTest, ADatabasesShorterStatementTimeoutIsNeverLoosened) {
  {
    auto lease = pool_->Borrow(Soon());
    ASSERT_TRUE(lease.ok());
    pqxx::nontransaction q(**lease);
    q.exec("ALTER DATABASE " + q.quote_name(db_) +
           " SET statement_timeout = '300ms'");
  }
  auto pool = PoolWithStatementTimeout(conninfo_, absl::Seconds(60));
  absl::Status read = SleepIn(*pool, absl::Now() + absl::Seconds(60), false);
  EXPECT_EQ(read.code(), absl::StatusCode::kDeadlineExceeded) << read;
  absl::Status write = SleepIn(*pool, absl::Now() + absl::Seconds(60), true);
  EXPECT_EQ(write.code(), absl::StatusCode::kDeadlineExceeded) << write;
  EXPECT_EQ(pool->database_statement_timeout(), absl::Milliseconds(300));
  EXPECT_EQ(pool->BoundedStatementTimeoutMs(absl::Seconds(10)), 300);
  EXPECT_EQ(pool->BoundedStatementTimeoutMs(absl::Milliseconds(20)), 20);
  {  // pinned in the session, not left to follow a reload
    auto lease = pool->Borrow(Soon());
    ASSERT_TRUE(lease.ok());
    EXPECT_EQ(pqxx::nontransaction(**lease)
                  .exec1("SELECT source FROM pg_settings "
                         "WHERE name = 'statement_timeout'")[0]
                  .as<std::string>(),
              "session");
  }

  auto tighter = PoolWithStatementTimeout(conninfo_, absl::Milliseconds(100));
  auto lease = tighter->Borrow(Soon());
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(pqxx::nontransaction(**lease)
                .exec1("SHOW statement_timeout")[0]
                .as<std::string>(),
            "100ms");
}

// Waiting for another replica's migration, like a long migration itself,
// may take longer than any call: Migrate is not bound by the pool's
// statement_timeout.
TEST_F(PgStoreTest, MigrationsOutwaitThePoolsStatementTimeout) {
  auto holder = NewPool(conninfo_, 1);
  auto lease = holder->Borrow(Soon());
  ASSERT_TRUE(lease.ok());
  pqxx::nontransaction(**lease).exec(
      "SELECT pg_advisory_lock(120273855735143)");  // 0x6d6370726567
  auto pool = PoolWithStatementTimeout(conninfo_, absl::Milliseconds(100));
  absl::StatusOr<int> version;
  std::thread migrating([&] { version = Migrate(*pool, Soon()); });
  Eventually([&] {
    return Count(
               "SELECT count(*) FROM pg_stat_activity "
               "WHERE wait_event = 'advisory'") > 0;
  });
  absl::SleepFor(absl::Milliseconds(300));  // thrice the statement bound
  pqxx::nontransaction(**lease).exec(
      "SELECT pg_advisory_unlock(120273855735143)");
  migrating.join();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, AllMigrations().back().version);
}

// The lock another replica's migration holds is waited for only until the
// deadline: a replica stuck mid-migration must not hang every other start.
TEST_F(PgStoreTest, AMigrationWaitsForAnotherReplicasOnlyUntilItsDeadline) {
  auto holder = NewPool(conninfo_, 1);
  auto lease = holder->Borrow(Soon());
  ASSERT_TRUE(lease.ok());
  pqxx::nontransaction(**lease).exec(
      "SELECT pg_advisory_lock(120273855735143)");
  auto pool = NewPool(conninfo_, 1);
  absl::StatusOr<int> version =
      Migrate(*pool, absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(version.status().code(), absl::StatusCode::kDeadlineExceeded)
      << version.status();
}

// A deadline too far off for statement_timeout (INT_MAX ms, ~24.8 days) is
// clamped, not refused; and a transaction whose BEGIN fails leaves no
// aborted transaction behind on the pooled connection.
TEST_F(PgStoreTest, AFarDeadlineIsClampedAndTheConnectionStaysUsable) {
  auto pool = NewPool(conninfo_, 1);  // no statement_timeout of its own
  TransactionOptions far;
  far.deadline = absl::Now() + absl::Hours(24 * 60);
  far.what = "writing";
  EXPECT_TRUE(RunTransaction(*pool, far, [](Transaction& txn) {
                txn.exec("SELECT 1");
                return absl::OkStatus();
              }).ok());
  absl::Status read = RunReadOnly(*pool, far, [](pqxx::nontransaction& q) {
    q.exec("SELECT 1");
    return absl::OkStatus();
  });
  EXPECT_TRUE(read.ok()) << read;
}

void CreateProbeTable(ConnectionPool& pool) {
  auto lease = pool.Borrow(Soon());
  ASSERT_TRUE(lease.ok());
  pqxx::nontransaction(**lease).exec(
      "CREATE TABLE deferred_probe (k text PRIMARY KEY)");
}

// RunTransaction's work with its statement `name` (prepared as `sql`)
// deferred to COMMIT after an ordinary INSERT of `key`. One attempt.
absl::Status WorkThenAtCommit(ConnectionPool& pool, const std::string& key,
                              const std::string& name, const std::string& sql,
                              const std::string& param) {
  TransactionOptions options;
  options.deadline = Soon();
  options.what = "probing";
  options.max_attempts = 1;
  return RunTransaction(pool, options, [&](Transaction& txn) {
    txn.exec_params("INSERT INTO deferred_probe VALUES ($1)", key);
    txn.conn().prepare(name, sql);
    ExecAtCommit(txn, name, {param});
    return absl::OkStatus();
  });
}

// A call's database work on a thread of its own with an interrupt
// installed, as a worker runs it, against a pool of one connection and a
// row ('held') another transaction has inserted and not committed.
class CancelledCallTest : public PgStoreTest {
 protected:
  void SetUp() override {
    PgStoreTest::SetUp();
    pool_of_one_ = NewPool(conninfo_, 1);
    ASSERT_NO_FATAL_FAILURE(CreateProbeTable(*pool_of_one_));
    holder_ = std::make_unique<pqxx::connection>(conninfo_);
    holding_ = std::make_unique<pqxx::work>(*holder_);
    holding_->exec("INSERT INTO deferred_probe VALUES ('held')");
    options_.deadline = absl::Now() + absl::Seconds(60);
    options_.what = "inserting";
  }
  void TearDown() override {
    if (call_.joinable()) call_.join();
  }

  // Runs `call` as the call; done_ is notified when it returns.
  void Start(std::function<void()> call) {
    call_ = std::thread([this, call = std::move(call)] {
      ScopedCallInterrupt installed(interrupt_.get());
      call();
      done_.Notify();
    });
  }
  void AwaitSomeoneWaitingForALock() {
    Eventually([&] {
      return Count(
                 "SELECT count(*) FROM pg_stat_activity "
                 "WHERE wait_event_type = 'Lock'") > 0;
    });
  }
  // Not a speed target: without the cancel the call would run on to its
  // deadline a minute away.
  bool EndsLongBeforeItsDeadline() {
    return done_.WaitForNotificationWithTimeout(absl::Seconds(30));
  }
  absl::Status BackendPid(int* pid) {
    return RunReadOnly(*pool_of_one_, options_, [pid](pqxx::nontransaction& q) {
      *pid = q.exec1("SELECT pg_backend_pid()")[0].as<int>();
      return absl::OkStatus();
    });
  }
  absl::Status InsertMineThenHeld(const std::function<void()>& between) {
    return RunTransaction(*pool_of_one_, options_, [&](Transaction& txn) {
      txn.exec("INSERT INTO deferred_probe VALUES ('mine')");
      between();
      txn.exec("INSERT INTO deferred_probe VALUES ('held')");  // waits
      return absl::OkStatus();
    });
  }

  std::unique_ptr<ConnectionPool> pool_of_one_;
  std::unique_ptr<pqxx::connection> holder_;
  std::unique_ptr<pqxx::work> holding_;
  StatementCanceller canceller_;
  std::shared_ptr<CallInterrupt> interrupt_ =
      std::make_shared<CallInterrupt>(canceller_);
  TransactionOptions options_;
  std::thread call_;
  absl::Notification done_;
};

// A call cancelled while its statement waits has that statement cancelled:
// the transaction rolls back, the status is CANCELLED, and the connection
// is closed, not pooled (a late cancel request must not hit the next
// caller). The call's later database work fails without starting, except
// an audit row, which records what happened whether or not the caller is
// still there.
TEST_F(CancelledCallTest, StopsItsStatementAndClosesItsConnection) {
  absl::Status before, waited, after, audited;
  int pid_before = 0, pid_again = 0;
  Start([&] {
    before = BackendPid(&pid_before);  // not interrupted: pooled again
    EXPECT_TRUE(BackendPid(&pid_again).ok());
    EXPECT_EQ(pid_again, pid_before);
    waited = InsertMineThenHeld([] {});
    after = BackendPid(&pid_again);
    audited = AppendAudit(*pool_of_one_, Audit("register"), options_.deadline);
  });
  AwaitSomeoneWaitingForALock();
  interrupt_->Interrupt();
  ASSERT_TRUE(EndsLongBeforeItsDeadline());
  holding_->abort();

  EXPECT_TRUE(before.ok()) << before;
  EXPECT_EQ(waited.code(), absl::StatusCode::kCancelled) << waited;
  EXPECT_EQ(after.code(), absl::StatusCode::kCancelled) << after;
  EXPECT_TRUE(audited.ok()) << audited;
  EXPECT_EQ(Count("SELECT count(*) FROM deferred_probe"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log"), 1);
  EXPECT_EQ(pool_of_one_->stats().open, 1u);
  int pid_after = 0;
  ASSERT_TRUE(BackendPid(&pid_after).ok());
  EXPECT_NE(pid_after, pid_before);
}

// PostgreSQL ignores a cancel request that arrives between two statements;
// the request is sent again until the call's work is off the connection,
// so the statement that follows is cancelled too.
TEST_F(CancelledCallTest, ACancelBetweenStatementsStopsTheNextOne) {
  absl::Notification between, interrupted;
  absl::Status waited;
  Start([&] {
    waited = InsertMineThenHeld([&] {
      between.Notify();
      interrupted.WaitForNotification();
      // The first request reaches an idle backend meanwhile.
      absl::SleepFor(absl::Milliseconds(300));
    });
  });
  between.WaitForNotification();
  interrupt_->Interrupt();
  interrupted.Notify();
  ASSERT_TRUE(EndsLongBeforeItsDeadline());
  holding_->abort();
  EXPECT_EQ(waited.code(), absl::StatusCode::kCancelled) << waited;
  EXPECT_EQ(Count("SELECT count(*) FROM deferred_probe"), 0);
}

// A cancelled call waiting for a connection stops waiting.
TEST_F(CancelledCallTest, StopsWaitingForAConnection) {
  auto taken = pool_of_one_->Borrow(Soon());
  ASSERT_TRUE(taken.ok());
  absl::Status waited;
  Start([&] { waited = InsertMineThenHeld([] {}); });
  Eventually([&] { return pool_of_one_->stats().waiting > 0; });
  interrupt_->Interrupt();
  ASSERT_TRUE(EndsLongBeforeItsDeadline());
  EXPECT_EQ(waited.code(), absl::StatusCode::kCancelled) << waited;
}

// A statement deferred to COMMIT (sent in one pipeline with it) commits
// with its transaction. When it fails, nothing of the transaction stays,
// the status is its error's, and the pool's one connection is left out of
// any transaction for the next caller.
TEST_F(PgStoreTest, AStatementDeferredToCommitCommitsOrFailsWithIt) {
  auto pool = NewPool(conninfo_, 1);
  ASSERT_NO_FATAL_FAILURE(CreateProbeTable(*pool));
  const char kInsert[] = "INSERT INTO deferred_probe VALUES ($1)";
  const char kDivide[] = "SELECT 1 / $1::int";
  ASSERT_TRUE(
      WorkThenAtCommit(*pool, "work", "probe_insert", kInsert, "deferred")
          .ok());
  EXPECT_EQ(Count("SELECT count(*) FROM deferred_probe"), 2);

  // A unique violation is ALREADY_EXISTS, as it would be without deferral.
  absl::Status duplicate =
      WorkThenAtCommit(*pool, "lost", "probe_insert", kInsert, "deferred");
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists) << duplicate;
  absl::Status divided =
      WorkThenAtCommit(*pool, "lost", "probe_divide", kDivide, "0");
  EXPECT_EQ(divided.code(), absl::StatusCode::kInternal) << divided;
  EXPECT_THAT(divided.message(), HasSubstr("22012"));
  EXPECT_EQ(Count("SELECT count(*) FROM deferred_probe WHERE k = 'lost'"), 0);

  // The same connection, out of the aborted transaction.
  EXPECT_TRUE(
      WorkThenAtCommit(*pool, "after", "probe_divide", kDivide, "1").ok());
  EXPECT_EQ(Count("SELECT count(*) FROM deferred_probe WHERE k = 'after'"), 1);
}

// The connection lost before COMMIT ran (the server's error for the
// deferred statement says it skipped COMMIT): nothing was written, the
// transaction may be retried, and the pool replaces the connection.
TEST_F(PgStoreTest, AConnectionLostBeforeADeferredCommitRanWroteNothing) {
  auto pool = NewPool(conninfo_, 1);
  ASSERT_NO_FATAL_FAILURE(CreateProbeTable(*pool));
  absl::Status status =
      WorkThenAtCommit(*pool, "lost", "probe_die",
                       "SELECT pg_terminate_backend(pg_backend_pid()) "
                       "WHERE $1 <> ''",
                       "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr("nothing was written"));
  EXPECT_TRUE(WorkThenAtCommit(*pool, "after", "probe_insert",
                               "INSERT INTO deferred_probe VALUES ($1)", "x")
                  .ok());
  EXPECT_EQ(Count("SELECT count(*) FROM deferred_probe WHERE k = 'lost'"), 0);
}

// The connection lost while COMMIT runs (here a deferred trigger ends the
// session): whether it took effect is unknown, and said so, not retried.
TEST_F(PgStoreTest, AConnectionLostDuringADeferredCommitIsInDoubt) {
  auto pool = NewPool(conninfo_, 1);
  ASSERT_NO_FATAL_FAILURE(CreateProbeTable(*pool));
  {
    auto lease = pool->Borrow(Soon());
    ASSERT_TRUE(lease.ok());
    pqxx::nontransaction(**lease).exec(R"sql(
      CREATE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_terminate_backend(pg_backend_pid());
        PERFORM pg_sleep(5);
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON deferred_probe
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.k = 'die')
        EXECUTE FUNCTION die())sql");
  }
  absl::Status status =
      WorkThenAtCommit(*pool, "die", "probe_insert",
                       "INSERT INTO deferred_probe VALUES ($1)", "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr("unknown"));
  EXPECT_EQ(Count("SELECT count(*) FROM deferred_probe"), 0);
}

}  // namespace
}  // namespace mcpreg::storage::pg
