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
constexpr char kChainHead[] = "audit_chain_head";
constexpr int kVerifyBatchRows = 5000;

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
  // caller's order, which becomes the chain's order.
  c.prepare(kAppendAuditRows, R"sql(
    INSERT INTO audit_log (actor, action, project_key, server, tool, decision,
                           reason, request_id, details)
    SELECT actor, action, project_key, server, tool, decision, reason,
           request_id, details
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                $6::text[], $7::text[], $8::text[], $9::jsonb[])
         WITH ORDINALITY AS r(actor, action, project_key, server, tool,
                              decision, reason, request_id, details, n)
    ORDER BY n)sql");
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
    SELECT id, prev_hash, row_hash,
           audit_log_hash(prev_hash, id, at, actor, action, project_key,
                          server, tool, decision, reason, request_id, details)
    FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2)sql");
  c.prepare(kChainHead, "SELECT last_id, last_hash FROM audit_chain_head");
}

void AppendAudit(pqxx::transaction_base& txn, const AuditEvent& e) {
  ExecAtCommit(txn, kAppendAudit,
               {e.actor, e.action, e.project_key, e.server, e.tool, e.decision,
                e.reason, e.request_id,
                e.details_json.empty() ? std::string("{}") : e.details_json});
}

void AppendAuditRows(pqxx::transaction_base& txn,
                     const std::vector<const AuditEvent*>& events) {
  std::vector<std::string> columns(9);
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
  }
  for (std::string& c : columns) c = absl::StrCat("{", c, "}");
  txn.exec_prepared(kAppendAuditRows, columns[0], columns[1], columns[2],
                    columns[3], columns[4], columns[5], columns[6], columns[7],
                    columns[8]);
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

absl::StatusOr<ChainVerdict> VerifyAuditChain(ConnectionPool& pool,
                                              absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = "verifying the audit log";
  ChainVerdict verdict;
  // A transaction, not autocommitted reads, for its statement_timeout (the
  // caller's deadline bounds a scan of a long log). READ COMMITTED still
  // gives each statement its own snapshot, as the loop below relies on.
  absl::Status status = RunTransaction(pool, options, [&](Transaction& q) {
    verdict = ChainVerdict();
    int64_t last_id = 0;
    std::string last_hash;
    const auto broken = [&](int64_t id, std::string problem) {
      verdict.intact = false;
      verdict.first_broken_id = id;
      verdict.problem = std::move(problem);
      return absl::OkStatus();
    };
    // Rows keep arriving while we read; each statement sees its own
    // snapshot. Read on until the head names the last row we checked.
    for (;;) {
      pqxx::result rows =
          q.exec_prepared(kVerifyBatch, last_id, kVerifyBatchRows);
      for (const pqxx::row& r : rows) {
        const int64_t id = r[0].as<int64_t>();
        const std::string prev = r[1].as<std::string>();
        const std::string stored = r[2].as<std::string>();
        ++verdict.rows_checked;
        if (prev != last_hash) {
          return broken(id,
                        absl::StrCat("row ", id,
                                     " does not link to the row before it (a "
                                     "row was removed or inserted before it)"));
        }
        if (r[3].as<std::string>() != stored) {
          return broken(id, absl::StrCat("row ", id,
                                         " was changed after it was "
                                         "written (its hash no longer "
                                         "matches its content)"));
        }
        last_id = id;
        last_hash = stored;
      }
      if (rows.size() == static_cast<size_t>(kVerifyBatchRows)) continue;
      pqxx::result head = q.exec_prepared(kChainHead);
      if (head.empty()) return broken(last_id, "the chain head is missing");
      const int64_t head_id = head[0][0].as<int64_t>();
      if (head_id == last_id && head[0][1].as<std::string>() == last_hash) {
        break;
      }
      if (head_id > last_id &&
          !q.exec_prepared(kVerifyBatch, last_id, 1).empty()) {
        continue;  // written since our last batch
      }
      return broken(
          head_id, absl::StrCat("the newest rows are missing: the chain "
                                "head names row ",
                                head_id, " but the log ends at row ", last_id));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return verdict;
}

}  // namespace mcpreg::storage::pg
