#include "storage/pg/pipelined_commit.h"

#include <pqxx/except>
#include <string>

namespace mcpreg::storage::pg {
namespace {

using Outcome = PipelinedCommit::Outcome;

// Sends every statement, then COMMIT, then the sync. False if a send
// failed; COMMIT is then not sent.
bool SendAll(PGconn* pg, const std::vector<PreparedCall>& statements,
             bool* commit_sent) {
  *commit_sent = false;
  for (const PreparedCall& s : statements) {
    std::vector<const char*> values;
    values.reserve(s.params.size());
    for (const std::string& p : s.params) values.push_back(p.c_str());
    if (PQsendQueryPrepared(pg, s.name.c_str(), static_cast<int>(values.size()),
                            values.data(), nullptr, nullptr, 0) != 1) {
      return false;
    }
  }
  if (PQsendQueryParams(pg, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr,
                        0) != 1) {
    return false;
  }
  *commit_sent = true;
  return PQpipelineSync(pg) == 1;
}

}  // namespace

PipelinedCommit CommitInPipeline(PGconn* pg,
                                 const std::vector<PreparedCall>& statements) {
  PipelinedCommit out;
  if (PQenterPipelineMode(pg) != 1) {
    out.outcome = Outcome::kNotRun;
    out.message = PQerrorMessage(pg);
    return out;
  }
  bool commit_sent = false;
  if (!SendAll(pg, statements, &commit_sent)) {
    // Whatever was queued is useless now. Once COMMIT is queued, part of
    // the pipeline may have reached the server and run even though the
    // sync could not be sent (and without it the server does not answer).
    out.outcome = commit_sent ? Outcome::kInDoubt : Outcome::kNotRun;
    out.message = PQerrorMessage(pg);
    return out;
  }

  // Each statement's results end with a null; then comes the sync. After
  // an error the server skips the rest up to the sync, and they come back
  // as PGRES_PIPELINE_ABORTED.
  const size_t commit_slot = statements.size();
  size_t slot = 0;
  bool committed = false, commit_skipped = false, sync_read = false;
  bool server_refused_a_statement = false;
  while (slot <= commit_slot + 1) {
    PGresult* r = PQgetResult(pg);
    if (r == nullptr) {
      if (PQstatus(pg) == CONNECTION_BAD) break;
      ++slot;
      continue;
    }
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      sync_read = true;
      break;
    }
    const bool is_commit = slot == commit_slot;
    // COMMIT of a transaction that had failed answers "ROLLBACK".
    if (is_commit && status == PGRES_COMMAND_OK) {
      committed = std::string(PQcmdStatus(r)) == "COMMIT";
    }
    if (is_commit && status == PGRES_PIPELINE_ABORTED) commit_skipped = true;
    // An error after COMMIT's slot (the connection lost before the sync)
    // changes nothing COMMIT answered, and names no statement.
    if (status == PGRES_FATAL_ERROR && out.message.empty() &&
        slot <= commit_slot) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      out.sqlstate = state == nullptr ? "" : state;
      out.message = PQresultErrorMessage(r);
      out.statement = is_commit ? "COMMIT" : statements[slot].name;
      // The server's own error for a statement before COMMIT: it skipped
      // COMMIT (libpq's errors, such as a lost connection, have no state).
      server_refused_a_statement = !is_commit && state != nullptr;
    }
    PQclear(r);
  }

  const bool commit_never_ran = commit_skipped || server_refused_a_statement;
  if (committed) {
    out.outcome = Outcome::kCommitted;
    // Left in pipeline mode only if the connection broke after COMMIT's
    // answer; the pool finds it broken on its next use. After the sync,
    // nothing is pending, so leaving pipeline mode cannot fail.
    if (sync_read) PQexitPipelineMode(pg);
    return out;
  }
  if (!sync_read || PQexitPipelineMode(pg) != 1) {
    out.outcome = commit_never_ran ? Outcome::kNotRun : Outcome::kInDoubt;
    if (out.message.empty()) out.message = PQerrorMessage(pg);
    return out;
  }
  out.outcome = Outcome::kFailed;
  if (out.message.empty()) out.message = "COMMIT did not complete";
  return out;
}

}  // namespace mcpreg::storage::pg
