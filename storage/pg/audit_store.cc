#include "storage/pg/audit_store.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "storage/pg/call_interrupt.h"
#include "storage/pg/transaction.h"

namespace mcpreg::storage::pg {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kAppendAudit[] = "audit_append";
constexpr char kAppendAuditRows[] = "audit_append_rows";
constexpr char kListAudit[] = "audit_list";
constexpr char kVerifyBatch[] = "audit_verify_batch";
constexpr char kChainHeads[] = "audit_chain_heads";
constexpr int kVerifyBatchRows = 5000;
// Migration 0006's chains: their number, and the hash each starts from.
constexpr int kAuditChains = 64;
std::string ChainGenesis(int chain) {
  return chain == 0 ? std::string() : absl::StrCat("chain ", chain);
}

// Appends `value` to a PostgreSQL array literal's element list: every
// element double-quoted, with " and \ backslash-escaped, so commas,
// braces, blanks and the word NULL stay plain text.
void AppendArrayElement(absl::string_view value, std::string& list) {
  if (!list.empty()) list.push_back(',');
  list.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') list.push_back('\\');
    list.push_back(c);
  }
  list.push_back('"');
}

}  // namespace

void PrepareAuditStatements(pqxx::connection& c) {
  c.prepare(kAppendAudit, R"sql(
    INSERT INTO audit_log (actor, action, project_key, server, tool, decision,
                           reason, request_id, details)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb))sql");
  // Arrays of equal length, one element per row; WITH ORDINALITY keeps the
  // caller's order, which becomes the chain's order. A row that names the
  // policy revision its decision was taken on is written only if the
  // server still exists and that revision (0: none) is still its own (this
  // statement's snapshot is taken after the call arrived, so a change
  // acknowledged before then is in it); the others are returned, by position,
  // for their callers to decide again. The condition is evaluated twice,
  // to filter what is inserted and to list what is not, in one statement
  // and so on one snapshot: the two agree. (A materialised CTE holding the
  // rows for both cost more than the second evaluation.)
  c.prepare(kAppendAuditRows, R"sql(
    WITH written AS (
      INSERT INTO audit_log (actor, action, project_key, server, tool,
                             decision, reason, request_id, details)
      SELECT actor, action, project_key, server, tool, decision, reason,
             request_id, details
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                  $6::text[], $7::text[], $8::text[], $9::jsonb[],
                  $10::bigint[], $11::bigint[])
           WITH ORDINALITY AS r(actor, action, project_key, server, tool,
                                decision, reason, request_id, details,
                                policy_server, policy_revision, n)
      WHERE r.policy_server = 0 OR r.policy_revision IS NOT DISTINCT FROM (
               SELECT coalesce(p.revision, 0)
               FROM servers s LEFT JOIN tool_policies p ON p.server_id = s.id
               WHERE s.id = r.policy_server)
      ORDER BY n
      RETURNING 1)
    SELECT n FROM unnest($10::bigint[], $11::bigint[])
                  WITH ORDINALITY AS r(policy_server, policy_revision, n)
    WHERE NOT (r.policy_server = 0 OR r.policy_revision IS NOT DISTINCT FROM (
               SELECT coalesce(p.revision, 0)
               FROM servers s LEFT JOIN tool_policies p ON p.server_id = s.id
               WHERE s.id = r.policy_server)))sql");
  c.prepare(kListAudit, R"sql(
    SELECT id, (extract(epoch FROM at) * 1000000)::bigint, actor, action,
           project_key, server, tool, decision, reason, request_id,
           details::text, row_hash
    FROM audit_log
    WHERE project_key = $1
      AND ($2::bigint = 0 OR at >= to_timestamp($2::bigint / 1000000.0))
      AND ($3::bigint = 0 OR at < to_timestamp($3::bigint / 1000000.0))
      AND ($4 = '' OR actor = $4)
      AND ($5 = '' OR server = $5)
      AND ($6 = '' OR tool = $6)
      AND ($7 = '' OR action = $7)
      AND ($8 = '' OR decision = $8)
      AND ($9::bigint = 0 OR id < $9::bigint)
    ORDER BY id DESC
    LIMIT $10)sql");
  c.prepare(kVerifyBatch, R"sql(
    SELECT id, chain, prev_hash, row_hash,
           audit_log_hash(prev_hash, id, at, actor, action, project_key,
                          server, tool, decision, reason, request_id, details)
    FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2)sql");
  c.prepare(
      kChainHeads,
      "SELECT chain, last_id, last_hash FROM audit_chains ORDER BY chain");
}

void AppendAudit(pqxx::transaction_base& txn, const AuditEvent& e) {
  ExecAtCommit(txn, kAppendAudit,
               {e.actor, e.action, e.project_key, e.server, e.tool, e.decision,
                e.reason, e.request_id,
                e.details_json.empty() ? std::string("{}") : e.details_json});
}

std::vector<size_t> AppendAuditRows(
    pqxx::transaction_base& txn, const std::vector<const AuditEvent*>& events) {
  std::vector<std::string> columns(9);
  std::string policy_servers, policy_revisions;
  for (const AuditEvent* e : events) {
    AppendArrayElement(e->actor, columns[0]);
    AppendArrayElement(e->action, columns[1]);
    AppendArrayElement(e->project_key, columns[2]);
    AppendArrayElement(e->server, columns[3]);
    AppendArrayElement(e->tool, columns[4]);
    AppendArrayElement(e->decision, columns[5]);
    AppendArrayElement(e->reason, columns[6]);
    AppendArrayElement(e->request_id, columns[7]);
    AppendArrayElement(e->details_json.empty() ? "{}" : e->details_json,
                       columns[8]);
    AppendArrayElement(std::to_string(e->policy_server_id), policy_servers);
    AppendArrayElement(std::to_string(e->policy_revision), policy_revisions);
  }
  for (std::string& c : columns) c = absl::StrCat("{", c, "}");
  pqxx::result stale = txn.exec_prepared(
      kAppendAuditRows, columns[0], columns[1], columns[2], columns[3],
      columns[4], columns[5], columns[6], columns[7], columns[8],
      absl::StrCat("{", policy_servers, "}"),
      absl::StrCat("{", policy_revisions, "}"));
  std::vector<size_t> positions;
  for (const pqxx::row& r : stale) {
    positions.push_back(r[0].as<size_t>() - 1);  // ORDINALITY counts from 1
  }
  return positions;
}

absl::Status AppendAudit(ConnectionPool& pool, const AuditEvent& event,
                         absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = "writing the audit log";
  // The record of what happened (a denial, a repository made) is written
  // whether or not the caller is still there: not interruptible by the
  // call's cancellation.
  ScopedCallInterrupt uninterruptible(nullptr);
  return RunTransaction(pool, options, [&](Transaction& txn) {
    AppendAudit(txn, event);
    return absl::OkStatus();
  });
}

}  // namespace mcpreg::storage::pg

namespace mcpreg::storage::pg {

absl::StatusOr<AuditPage> ListAudit(ConnectionPool& pool,
                                    const AuditQuery& query,
                                    absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = "reading the audit log";
  AuditPage page;
  absl::Status status =
      RunReadOnly(pool, options, [&](pqxx::nontransaction& q) {
        page = AuditPage();
        pqxx::result rows = q.exec_prepared(
            kListAudit, query.project_key, query.since_micros,
            query.until_micros, query.actor, query.server, query.tool,
            query.action, query.decision, query.before_id,
            static_cast<int64_t>(query.limit) + 1);
        for (size_t i = 0; i < rows.size() && i < query.limit; ++i) {
          const pqxx::row& r = rows[i];
          v1::AuditEvent& e = page.events.emplace_back();
          e.set_id(r[0].as<int64_t>());
          *e.mutable_at() =
              TimeUtil::MicrosecondsToTimestamp(r[1].as<int64_t>());
          e.set_actor(r[2].as<std::string>());
          e.set_action(r[3].as<std::string>());
          e.set_project_key(r[4].as<std::string>());
          e.set_server(r[5].as<std::string>());
          e.set_tool(r[6].as<std::string>());
          e.set_decision(r[7].as<std::string>());
          e.set_reason(r[8].as<std::string>());
          e.set_request_id(r[9].as<std::string>());
          e.set_details_json(r[10].as<std::string>());
          e.set_row_hash(r[11].as<std::string>());
        }
        if (rows.size() > query.limit && !page.events.empty()) {
          page.next_before_id = page.events.back().id();
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return page;
}

namespace {

struct ChainHead {
  bool present = false;
  int64_t id = 0;
  std::string hash;
};

// Every chain's head, as of one statement's snapshot.
std::vector<ChainHead> ReadHeads(Transaction& q) {
  std::vector<ChainHead> heads(kAuditChains);
  for (const pqxx::row& h : q.exec_prepared(kChainHeads)) {
    const int chain = h[0].as<int>();
    if (chain < 0 || chain >= kAuditChains) continue;  // CHECK forbids it
    heads[chain] = {true, h[1].as<int64_t>(), h[2].as<std::string>()};
  }
  return heads;
}

}  // namespace

absl::StatusOr<ChainVerdict> VerifyAuditChain(ConnectionPool& pool,
                                              absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = "verifying the audit log";
  ChainVerdict verdict;
  // A transaction for its statement_timeout (the caller's deadline bounds a
  // scan of a long log); READ COMMITTED, so no snapshot is held across the
  // scan and vacuum is not held back meanwhile.
  absl::Status status = RunTransaction(pool, options, [&](Transaction& q) {
    verdict = ChainVerdict();
    const auto broken = [&](int64_t id, std::string problem) {
      verdict.intact = false;
      verdict.first_broken_id = id;
      verdict.problem = std::move(problem);
      return absl::OkStatus();
    };
    // The heads first: every row a head covers had committed when they were
    // read (a chain's ids are drawn under its lock, its head moves in the
    // same transaction), so each chain is checked up to its head no matter
    // what commits while the scan runs. Newer rows are left for the next
    // verification, but must be covered by the heads read afterwards.
    const std::vector<ChainHead> heads = ReadHeads(q);
    for (int c = 0; c < kAuditChains; ++c) {
      if (!heads[c].present) {
        return broken(0, absl::StrCat("the head of chain ", c, " is missing"));
      }
    }
    struct Tail {
      int64_t id = 0;
      std::string hash;
      int64_t newest_uncovered = 0;  // the largest id past the head
    };
    std::vector<Tail> tails(kAuditChains);
    for (int c = 0; c < kAuditChains; ++c) tails[c].hash = ChainGenesis(c);
    for (int64_t after = 0;;) {
      pqxx::result rows =
          q.exec_prepared(kVerifyBatch, after, kVerifyBatchRows);
      for (const pqxx::row& r : rows) {
        const int64_t id = r[0].as<int64_t>();
        const int chain = r[1].as<int>();
        after = id;
        if (chain < 0 || chain >= kAuditChains) {
          return broken(id, absl::StrCat("row ", id, " names chain ", chain,
                                         ", which does not exist"));
        }
        Tail& tail = tails[chain];
        if (id > heads[chain].id) {
          tail.newest_uncovered = id;
          continue;
        }
        ++verdict.rows_checked;
        const std::string prev = r[2].as<std::string>();
        const std::string stored = r[3].as<std::string>();
        if (prev != tail.hash) {
          return broken(
              id, absl::StrCat("row ", id,
                               " does not link to the row before "
                               "it in chain ",
                               chain,
                               " (a row was removed or inserted before it)"));
        }
        if (r[4].as<std::string>() != stored) {
          return broken(id, absl::StrCat("row ", id,
                                         " was changed after it was "
                                         "written (its hash no longer "
                                         "matches its content)"));
        }
        tail.id = id;
        tail.hash = stored;
      }
      if (rows.size() < static_cast<size_t>(kVerifyBatchRows)) break;
    }
    // Each chain ends where its head says: a removed tail (or a whole
    // removed chain) leaves a head pointing past the log.
    for (int c = 0; c < kAuditChains; ++c) {
      if (heads[c].id != tails[c].id || heads[c].hash != tails[c].hash) {
        return broken(heads[c].id,
                      absl::StrCat("the newest rows are missing: chain ", c,
                                   "'s head names row ", heads[c].id,
                                   " but the chain ends ",
                                   tails[c].id == 0
                                       ? std::string("before its first row")
                                       : absl::StrCat("at row ", tails[c].id)));
      }
    }
    // Rows past the first heads were appended during the scan, and the
    // heads now cover them — or were put there without going through the
    // log's trigger.
    const std::vector<ChainHead> now = ReadHeads(q);
    for (int c = 0; c < kAuditChains; ++c) {
      if (tails[c].newest_uncovered > now[c].id) {
        return broken(tails[c].newest_uncovered,
                      absl::StrCat("row ", tails[c].newest_uncovered,
                                   " lies past the head of its chain ", c,
                                   " (it was not appended through the log)"));
      }
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return verdict;
}

}  // namespace mcpreg::storage::pg
