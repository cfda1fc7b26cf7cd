// Governance storage against a real PostgreSQL: the audit hash chain (and
// what tampering does to it), group commit, audit queries and paging, tool
// policies and the notifications that keep every replica's cache coherent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "storage/pg/audit_batcher.h"
#include "storage/pg/audit_store.h"
#include "storage/pg/notification_listener.h"
#include "storage/pg/policy_store.h"
#include "storage/pg/server_store.h"
#include "tests/support/pg_fixture.h"

namespace mcpreg::storage::pg {
namespace {

using ::testing::Each;
using ::testing::HasSubstr;
using testing::NewPool;
using testing::Soon;

const auto* const kEnv =
    ::testing::AddGlobalTestEnvironment(new testing::PgClusterEnvironment);

AuditEvent Event(const std::string& action, const std::string& tool = "",
                 const std::string& decision = "ALLOW") {
  AuditEvent e;
  e.actor = "agent";
  e.action = action;
  e.project_key = "ai-research";
  e.server = "pypi:ai-pypi-local:mcp-server";
  e.tool = tool;
  e.decision = decision;
  e.reason = "because";
  return e;
}

// Holds every audit chain head's row lock, as a slow database would:
// appends queue up behind it until Release.
class ChainHeadHold {
 public:
  explicit ChainHeadHold(const std::string& conninfo)
      : pool_(NewPool(conninfo, 1)), lease_(pool_->Borrow(Soon())) {
    if (!lease_.ok()) {
      ADD_FAILURE() << lease_.status();
      return;
    }
    txn_ = std::make_unique<pqxx::work>(**lease_);
    txn_->exec("SELECT * FROM audit_chains FOR UPDATE");
  }
  ~ChainHeadHold() { Release(); }
  void Release() {
    if (txn_ == nullptr) return;
    txn_->commit();
    txn_.reset();
  }

 private:
  std::unique_ptr<ConnectionPool> pool_;
  absl::StatusOr<ConnectionPool::Lease> lease_;
  std::unique_ptr<pqxx::work> txn_;
};

// Queues `rows` while the chains are held, so that they are written
// together (in at most two batches: the writer may take the first alone),
// and returns each row's outcome.
std::vector<absl::Status> AppendHeldBack(AuditBatcher& batcher,
                                         const std::string& conninfo,
                                         const std::vector<AuditEvent>& rows) {
  std::vector<absl::Status> outcomes(rows.size());
  ChainHeadHold hold(conninfo);
  absl::Mutex mu;
  size_t told = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    batcher.AppendAsync(rows[i], [&, i](const absl::Status& s) {
      absl::MutexLock lock(&mu);
      outcomes[i] = s;
      ++told;
    });
  }
  hold.Release();
  absl::MutexLock lock(&mu);
  const auto all_told = [&] { return told == rows.size(); };
  EXPECT_TRUE(
      mu.AwaitWithTimeout(absl::Condition(&all_told), absl::Seconds(30)));
  return outcomes;
}

class GovernancePgTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    servers_ = std::make_unique<PgServerStore>(*pool_);
    policies_ = std::make_unique<PgPolicyStore>(*pool_);
  }
  // Registers "mcp-server" and returns its id.
  int64_t RegisterServer(const std::string& name = "mcp-server") {
    NewServerVersion v;
    v.project_key = "ai-research";
    v.name = name;
    v.display_name = "pypi:ai-pypi-local:" + name;
    v.repo_key = "ai-pypi-local";
    v.package_type = "pypi";
    v.version = "1.0.0";
    v.repo_path = name + ".tar.gz";
    v.artifact_sha256 = std::string(64, 'b');
    v.description = "d";
    v.actor = "ci";
    EXPECT_TRUE(servers_->Register(v, Event("register"), Soon()).ok());
    return Count(
        absl::StrCat("SELECT id FROM servers WHERE name = '", name, "'"));
  }
  ChainVerdict Verify() {
    auto v = VerifyAuditChain(*pool_, Soon());
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : ChainVerdict{};
  }
  // Runs SQL as the database owner with the append-only triggers off: what a
  // tamperer with full access does.
  void Tamper(const std::string& sql) {
    ASSERT_EQ(cluster().Psql(
                  db_, absl::StrCat("ALTER TABLE audit_log DISABLE TRIGGER "
                                    "USER; ",
                                    sql,
                                    "; ALTER TABLE audit_log ENABLE TRIGGER "
                                    "USER;")),
              0);
  }

  std::unique_ptr<PgServerStore> servers_;
  std::unique_ptr<PgPolicyStore> policies_;
};

TEST_F(GovernancePgTest, ChainIsIntactAcrossConcurrentWriters) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(AppendAudit(*pool_,
                                Event("tool.check", absl::StrCat("t", t)),
                                Soon())
                        .ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ChainVerdict v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.rows_checked, 80);
  // Each row links to the one before it in its chain, by id.
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log a JOIN audit_log b "
                  "ON b.id = (SELECT max(id) FROM audit_log "
                  "           WHERE chain = a.chain AND id < a.id) "
                  "WHERE a.prev_hash <> b.row_hash"),
            0);
}

TEST_F(GovernancePgTest, ChangingARowBreaksTheChainThere) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        AppendAudit(*pool_, Event("tool.check", "t", "DENY"), Soon()).ok());
  }
  ASSERT_TRUE(Verify().intact);
  const int64_t third =
      Count("SELECT id FROM audit_log ORDER BY id OFFSET 2 LIMIT 1");
  // Ordinary writers cannot even try.
  EXPECT_NE(cluster().Psql(db_, "UPDATE audit_log SET decision = 'ALLOW'"), 0);
  EXPECT_NE(cluster().Psql(db_, "UPDATE audit_chains SET last_id = 1"), 0);
  EXPECT_NE(cluster().Psql(db_, "DELETE FROM audit_chains WHERE chain = 5"), 0);
  EXPECT_NE(cluster().Psql(db_, "INSERT INTO audit_chains VALUES (64, 0, '')"),
            0);
  Tamper(absl::StrCat("UPDATE audit_log SET decision = 'ALLOW' WHERE id = ",
                      third));
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_id, third);
  EXPECT_THAT(v.problem, HasSubstr("changed"));
}

TEST_F(GovernancePgTest, RemovingRowsBreaksTheChain) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(AppendAudit(*pool_, Event("register"), Soon()).ok());
  }
  const int64_t second =
      Count("SELECT id FROM audit_log ORDER BY id OFFSET 1 LIMIT 1");
  Tamper(absl::StrCat("DELETE FROM audit_log WHERE id = ", second));
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_GT(v.first_broken_id, second);
  EXPECT_THAT(v.problem, HasSubstr("does not link"));
}

TEST_F(GovernancePgTest, RemovingTheNewestRowsIsNoticed) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(AppendAudit(*pool_, Event("register"), Soon()).ok());
  }
  Tamper("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)");
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_THAT(v.problem, HasSubstr("newest rows are missing"));
}

TEST_F(GovernancePgTest, GroupCommitSharesCommitsAndEveryRowIsDurable) {
  AuditBatcher batcher(*pool_);
  // The first batch waits: everyone queues up meanwhile, as under load.
  ChainHeadHold hold(conninfo_);

  constexpr int kCallers = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      if (batcher.Append(Event("tool.check", absl::StrCat("tool", i)), Soon())
              .ok()) {
        ++ok;
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(ok.load(), 0);  // nobody is answered before their row commits
  hold.Release();
  for (auto& c : callers) c.join();
  EXPECT_EQ(ok.load(), kCallers);
  EXPECT_LE(batcher.batches_committed(), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'tool.check'"),
            kCallers);
  EXPECT_TRUE(Verify().intact);
}

TEST_F(GovernancePgTest, AsyncAppendsAreAnsweredOnceEachAfterTheirCommit) {
  // Declared before the batcher, which answers what is left as it stops.
  constexpr int kRows = 40;
  absl::Mutex mu;
  std::vector<int> answers(kRows, 0);
  int ok = 0;
  bool on_caller_thread = false;
  AuditBatcher batcher(*pool_);
  ChainHeadHold hold(conninfo_);
  const std::thread::id caller = std::this_thread::get_id();
  // All queued from one thread that never waits: nothing holds a thread per
  // row while the rows commit.
  for (int i = 0; i < kRows; ++i) {
    batcher.AppendAsync(Event("tool.check", absl::StrCat("tool", i)),
                        [&, i](const absl::Status& s) {
                          absl::MutexLock lock(&mu);
                          ++answers[i];
                          if (s.ok()) ++ok;
                          if (std::this_thread::get_id() == caller) {
                            on_caller_thread = true;
                          }
                        });
  }
  absl::SleepFor(absl::Milliseconds(300));
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(ok, 0);  // nobody is answered before their row commits
  }
  hold.Release();
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(
                                +[](int* n) { return *n == kRows; }, &ok),
                            absl::Seconds(30)));
    EXPECT_THAT(answers, Each(1));
    EXPECT_FALSE(on_caller_thread);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'tool.check'"),
            kRows);
  EXPECT_TRUE(Verify().intact);
}

TEST_F(GovernancePgTest, AppendsPastTheQueueBoundAreRefusedAtOnce) {
  std::atomic<int> ok{0};
  std::atomic<int> exhausted{0};
  const auto count = [&](const absl::Status& s) {
    if (s.ok()) ++ok;
    if (s.code() == absl::StatusCode::kResourceExhausted) ++exhausted;
  };
  AuditBatcher batcher(*pool_, /*max_batch_rows=*/512, /*max_queued_rows=*/5);
  ChainHeadHold hold(conninfo_);
  // The writer takes the first row and stalls on the held head; five more
  // fill the queue; the rest are refused on the caller's thread, at once.
  batcher.AppendAsync(Event("tool.check", "first"), count);
  const auto writer_waits = [&] {
    return Count(
               "SELECT count(*) FROM pg_stat_activity WHERE datname = "
               "current_database() AND wait_event_type = 'Lock' AND query "
               "LIKE '%INSERT INTO audit_log%'") > 0;
  };
  for (absl::Time give_up = Soon(); !writer_waits() && absl::Now() < give_up;) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(writer_waits());
  for (int i = 0; i < 12; ++i) {
    batcher.AppendAsync(Event("tool.check", absl::StrCat("t", i)), count);
  }
  EXPECT_EQ(exhausted.load(), 7);
  EXPECT_EQ(ok.load(), 0);
  hold.Release();
  for (absl::Time give_up = Soon(); ok.load() < 6 && absl::Now() < give_up;) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(ok.load(), 6);
  absl::Status later = batcher.Append(Event("tool.check", "later"), Soon());
  EXPECT_TRUE(later.ok()) << later;  // room again once the writer caught up
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'tool.check'"),
            7);
}

TEST_F(GovernancePgTest, BatcherCallersGetDeadlineExceededWhenBlocked) {
  AuditBatcher batcher(*pool_);
  ChainHeadHold hold(conninfo_);
  absl::Status s = batcher.Append(Event("tool.check", "x"),
                                  absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(GovernancePgTest, AuditQueriesFilterAndPageStably) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(AppendAudit(*pool_,
                            Event("tool.check", i % 2 ? "read" : "write",
                                  i % 5 == 0 ? "DENY" : "ALLOW"),
                            Soon())
                    .ok());
  }
  AuditQuery q;
  q.project_key = "ai-research";
  q.action = "tool.check";
  q.limit = 10;
  std::vector<int64_t> seen;
  for (int page = 0; page < 5; ++page) {
    auto p = ListAudit(*pool_, q, Soon());
    ASSERT_TRUE(p.ok()) << p.status();
    for (const auto& e : p->events) seen.push_back(e.id());
    // New rows arriving while paging do not shift later pages.
    ASSERT_TRUE(AppendAudit(*pool_, Event("tool.check"), Soon()).ok());
    if (p->next_before_id == 0) break;
    q.before_id = p->next_before_id;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 25u);

  AuditQuery denied;
  denied.project_key = "ai-research";
  denied.decision = "DENY";
  denied.tool = "write";
  auto d = ListAudit(*pool_, denied, Soon());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->events.size(), 3u);  // i = 0, 10, 20: even (write), DENY
  for (const auto& e : d->events) {
    EXPECT_EQ(e.decision(), "DENY");
    EXPECT_EQ(e.tool(), "write");
    EXPECT_EQ(e.row_hash().size(), 64u);
  }
  AuditQuery future;
  future.project_key = "ai-research";
  future.since_micros = absl::ToUnixMicros(absl::Now() + absl::Hours(1));
  EXPECT_TRUE(ListAudit(*pool_, future, Soon())->events.empty());
  AuditQuery other;
  other.project_key = "other-project";
  EXPECT_TRUE(ListAudit(*pool_, other, Soon())->events.empty());
}

TEST_F(GovernancePgTest, PoliciesRoundTripAndNotifyOnlyOnCommit) {
  const int64_t id = RegisterServer();
  std::vector<std::string> payloads;
  absl::Mutex mu;
  absl::Notification listening;
  NotificationListener listener(
      conninfo_, kPolicyChannel,
      [&](const std::string& p) {
        absl::MutexLock lock(&mu);
        payloads.push_back(p);
      },
      [&](bool up) {
        if (up && !listening.HasBeenNotified()) listening.Notify();
      });
  ASSERT_TRUE(listening.WaitForNotificationWithTimeout(absl::Seconds(10)));

  auto none = policies_->Load("ai-research", "mcp-server", Soon());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->policy.has_value());
  ASSERT_EQ(none->server_id, id);

  v1::ToolPolicy p;
  p.set_mode(v1::ToolPolicy::ALLOW_LIST);
  p.add_entries()->set_pattern("read_file");
  auto* re = p.add_entries();
  re->set_pattern("search_.*");
  re->set_is_regex(true);
  auto set = policies_->Set(*none, p, "admin", Event("policy.set"), Soon());
  ASSERT_TRUE(set.ok()) << set.status();
  auto loaded =
      policies_->Load("ai-research", "pypi:ai-pypi-local:mcp-server", Soon());
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->policy.has_value());
  // What Set returned is what is stored.
  EXPECT_EQ(set->SerializeAsString(), loaded->policy->SerializeAsString());
  EXPECT_EQ(loaded->policy->mode(), v1::ToolPolicy::ALLOW_LIST);
  ASSERT_EQ(loaded->policy->entries_size(), 2);
  EXPECT_TRUE(loaded->policy->entries(1).is_regex());
  EXPECT_EQ(loaded->policy->updated_by(), "admin");

  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until) {
    absl::MutexLock lock(&mu);
    if (!payloads.empty()) break;
    mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::vector<std::string>* v) { return !v->empty(); },
            &payloads),
        absl::Milliseconds(100));
  }
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(payloads.size(), 1u);
    EXPECT_EQ(payloads[0], absl::StrCat(id));
  }

  // Unregister removes the policy with the server, and notifies too.
  ASSERT_TRUE(
      servers_
          ->Unregister("ai-research", "mcp-server", Event("unregister"), Soon())
          .ok());
  EXPECT_EQ(Count("SELECT count(*) FROM tool_policies"), 0);
  EXPECT_EQ(policies_->Set(*none, p, "admin", Event("policy.set"), Soon())
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  absl::SleepFor(absl::Milliseconds(500));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(payloads.size(), 2u);  // the unregister; not the refused Set
}

// A batch the database refuses for one row's content is written row by
// row: the others commit and are told so, the bad one alone fails.
TEST_F(GovernancePgTest, OneBadRowFailsOnlyItselfInABatch) {
  AuditBatcher batcher(*pool_);
  const std::vector<absl::Status> outcomes = AppendHeldBack(
      batcher, conninfo_,
      {Event("tool.check", "a"), Event("tool.check", "b", "MAYBE"),
       Event("tool.check", "c")});
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_FALSE(outcomes[1].ok());
  EXPECT_TRUE(outcomes[2].ok()) << outcomes[2];
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE tool IN ('a', 'c')"),
            2);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE tool = 'b'"), 0);
  EXPECT_TRUE(Verify().intact);
}

// A decision names the policy revision it was taken on; its row is written
// only while that revision is in force, so a replica cannot answer a call
// under a policy that another replica has replaced and acknowledged.
TEST_F(GovernancePgTest, RowsDecidedOnAReplacedPolicyAreNotWritten) {
  const int64_t id = RegisterServer();
  auto server = policies_->Load("ai-research", "mcp-server", Soon());
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server->policy_revision, 0);  // none yet
  v1::ToolPolicy allow_all;
  allow_all.set_mode(v1::ToolPolicy::ALLOW_ALL);
  ASSERT_TRUE(
      policies_->Set(*server, allow_all, "admin", Event("policy.set"), Soon())
          .ok());
  const int64_t first =
      policies_->Load("ai-research", "mcp-server", Soon())->policy_revision;
  ASSERT_TRUE(
      policies_->Set(*server, allow_all, "admin", Event("policy.set"), Soon())
          .ok());
  const int64_t second =
      policies_->Load("ai-research", "mcp-server", Soon())->policy_revision;
  EXPECT_GT(first, 0);
  EXPECT_NE(first, second);

  const auto decided_on = [&](int64_t revision, const std::string& tool) {
    AuditEvent e = Event("tool.check", tool);
    e.policy_server_id = id;
    e.policy_revision = revision;
    return e;
  };
  AuditBatcher batcher(*pool_);
  // One batch with rows of both kinds: each gets its own verdict.
  const std::vector<absl::Status> outcomes = AppendHeldBack(
      batcher, conninfo_,
      {decided_on(second, "current"), decided_on(first, "stale"),
       Event("tool.check", "no-policy-named"), decided_on(0, "stale-none")});
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_TRUE(IsStalePolicy(outcomes[1])) << outcomes[1];
  EXPECT_TRUE(outcomes[2].ok()) << outcomes[2];
  EXPECT_TRUE(IsStalePolicy(outcomes[3])) << outcomes[3];
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE tool LIKE 'stale%'"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE tool IN "
                  "('current', 'no-policy-named')"),
            2);
  // Unregistered: the policy went with the server, so no revision of it is
  // in force any more.
  ASSERT_TRUE(
      servers_
          ->Unregister("ai-research", "mcp-server", Event("unregister"), Soon())
          .ok());
  EXPECT_TRUE(IsStalePolicy(
      batcher.Append(decided_on(second, "after-unregister"), Soon())));
  EXPECT_TRUE(Verify().intact);
}

TEST_F(GovernancePgTest, SearchMatchesNameAndDescription) {
  RegisterServer("weather-tools");
  RegisterServer("github-helper");
  auto found = servers_->List("ai-research", {"ai-pypi-local"}, "", 10,
                              "WEATHER", Soon());
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->servers.size(), 1u);
  EXPECT_EQ(found->servers[0].name(), "weather-tools");
  // Wildcards are literal text, not patterns.
  EXPECT_TRUE(
      servers_->List("ai-research", {"ai-pypi-local"}, "", 10, "%", Soon())
          ->servers.empty());
}

}  // namespace
}  // namespace mcpreg::storage::pg
