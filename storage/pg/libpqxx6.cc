#include "storage/pg/libpqxx6.h"

#include <exception>

namespace mcpreg::storage::pg {

BoundedWork::BoundedWork(pqxx::connection_base& c, std::string begin_sql)
    : pqxx::internal::namedclass("BoundedWork"),
      basic_transaction(c, "READ COMMITTED", pqxx::read_write),
      begin_sql_(std::move(begin_sql)) {
  Begin();
}

BoundedWork::~BoundedWork() noexcept { End(); }

void BoundedWork::Defer(PreparedCall statement) {
  conn().prepare_now(statement.name);
  deferred_.push_back(std::move(statement));
}

void BoundedWork::do_commit() {
  if (deferred_.empty()) {
    CommitAlone();
  } else {
    CommitWithDeferred();
  }
}

// basic_transaction's own, which a subclass cannot call: COMMIT, and a
// connection lost on the way makes the outcome unknown.
void BoundedWork::CommitAlone() {
  try {
    direct_exec("COMMIT");
  } catch (const pqxx::statement_completion_unknown& e) {
    throw pqxx::in_doubt_error(e.what());
  } catch (const std::exception& e) {
    if (!conn().is_open()) throw pqxx::in_doubt_error(e.what());
    throw;
  }
}

void BoundedWork::CommitWithDeferred() {
  PGconn* pg = LibpqConnection::Of(*this);
  const PipelinedCommit result = CommitInPipeline(pg, deferred_);
  deferred_.clear();
  switch (result.outcome) {
    case PipelinedCommit::Outcome::kCommitted:
      return;
    case PipelinedCommit::Outcome::kInDoubt:
      throw pqxx::in_doubt_error("connection lost while committing: " +
                                 result.message);
    case PipelinedCommit::Outcome::kNotRun:
      throw pqxx::broken_connection(result.message);
    case PipelinedCommit::Outcome::kFailed:
      break;
  }
  // A failed statement leaves the transaction open and aborted (COMMIT
  // never ran): roll it back, or the connection would go back to the pool
  // inside it. A failed COMMIT has ended it already.
  if (PQtransactionStatus(pg) != PQTRANS_IDLE) {
    try {
      direct_exec("ROLLBACK");
    } catch (const std::exception& e) {
      throw pqxx::broken_connection(e.what());  // and nothing committed
    }
  }
  if (result.sqlstate == "40003") {  // as CommitAlone would say it
    throw pqxx::in_doubt_error(result.message);
  }
  ThrowAsLibpqxxWould(result.sqlstate, result.message, result.statement);
}

void BoundedWork::do_begin() {
  try {
    direct_exec(begin_sql_.c_str());
  } catch (...) {
    // BEGIN may have run and the SET failed (or been cancelled): libpqxx
    // rolls back only a transaction it saw begin, and the connection
    // would go back to the pool inside an aborted one.
    try {
      direct_exec("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

void ThrowAsLibpqxxWould(const std::string& sqlstate,
                         const std::string& message,
                         const std::string& statement) {
  const char* state = sqlstate.empty() ? nullptr : sqlstate.c_str();
  if (sqlstate.rfind("08", 0) == 0) throw pqxx::broken_connection(message);
  if (sqlstate == "40000") throw pqxx::transaction_rollback(message);
  if (sqlstate == "40001") throw pqxx::serialization_failure(message);
  if (sqlstate == "40003") throw pqxx::statement_completion_unknown(message);
  if (sqlstate == "40P01") throw pqxx::deadlock_detected(message);
  if (sqlstate == "53300") throw pqxx::too_many_connections(message);
  // The finer sql_error subclasses; pg_status.h tells apart only this one.
  if (sqlstate == "23505")
    throw pqxx::unique_violation(message, statement, state);
  throw pqxx::sql_error(message, statement, state);
}

}  // namespace mcpreg::storage::pg
