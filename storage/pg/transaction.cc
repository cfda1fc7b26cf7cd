#include "transaction.h"

#include <libpq-fe.h>

#include <algorithm>
#include <pqxx/largeobject>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pg_status.h"

namespace mcpreg::storage::pg {
namespace {

// The command that opens a transaction: BEGIN and, with a deadline, a
// statement_timeout for the rest of the transaction (the time left), so
// the database stops working for a caller who is gone. One message.
std::string BeginSql(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return "BEGIN";
  return absl::StrCat("BEGIN; SET LOCAL statement_timeout = ",
                      StatementTimeoutMs(deadline - absl::Now()));
}

// libpqxx 6 has no pipeline mode. Its large-object class is the one way
// it offers to reach a transaction's libpq connection.
class LibpqConnection : public pqxx::largeobject {
 public:
  static PGconn* Of(const pqxx::dbtransaction& txn) {
    return raw_connection(txn);
  }
};

// The libpqxx exception a statement's SQLSTATE would have raised, as far as
// pg_status.h tells them apart.
[[noreturn]] void ThrowSqlError(const std::string& state,
                                const std::string& message,
                                const std::string& statement) {
  if (state == "40001") throw pqxx::serialization_failure(message);
  if (state == "40P01") throw pqxx::deadlock_detected(message);
  if (state.rfind("40", 0) == 0) throw pqxx::transaction_rollback(message);
  if (state == "23505") {
    throw pqxx::unique_violation(message, statement, state.c_str());
  }
  throw pqxx::sql_error(message, statement, state.c_str());
}

// A prepared statement held back to be sent with COMMIT.
struct DeferredStatement {
  std::string name;
  std::vector<std::string> params;
};

// pqxx::work (READ COMMITTED, read-write), but begun with BeginSql: a
// separate SET LOCAL would cost every write transaction a round trip. It
// also commits statements deferred to COMMIT (ExecAtCommit).
class BoundedWork : public pqxx::internal::basic_transaction {
 public:
  BoundedWork(pqxx::connection_base& c, std::string begin_sql)
      : pqxx::internal::namedclass("BoundedWork"),
        basic_transaction(c, "READ COMMITTED", pqxx::read_write),
        begin_sql_(std::move(begin_sql)) {
    Begin();
  }
  ~BoundedWork() noexcept override { End(); }

  void Defer(DeferredStatement statement) {
    // Prepared now, if this connection has not yet: PREPARE may fail, and
    // then it fails the work, not the commit.
    conn().prepare_now(statement.name);
    deferred_.push_back(std::move(statement));
  }

 private:
  // basic_transaction's own, which a subclass cannot call: COMMIT, and a
  // connection lost on the way makes the outcome unknown.
  void do_commit() override {
    try {
      if (deferred_.empty()) {
        direct_exec("COMMIT");
      } else {
        CommitPipelined();
      }
    } catch (const pqxx::in_doubt_error&) {
      throw;
    } catch (const pqxx::statement_completion_unknown& e) {
      throw pqxx::in_doubt_error(e.what());
    } catch (const std::exception& e) {
      if (!conn().is_open()) throw pqxx::in_doubt_error(e.what());
      throw;
    }
  }

  // The deferred statements and COMMIT in one pipeline (libpq 14+): one
  // round trip, and the server runs them back to back.
  void CommitPipelined() {
    PGconn* pg = LibpqConnection::Of(*this);
    if (PQenterPipelineMode(pg) != 1) {
      throw pqxx::broken_connection(PQerrorMessage(pg));
    }
    for (const DeferredStatement& d : deferred_) {
      std::vector<const char*> values;
      for (const std::string& p : d.params) values.push_back(p.c_str());
      PQsendQueryPrepared(pg, d.name.c_str(), static_cast<int>(values.size()),
                          values.data(), nullptr, nullptr, 0);
    }
    PQsendQueryParams(pg, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0);
    // Once anything is sent, the server may run COMMIT even if the rest of
    // the pipeline never arrives: only its answer tells the outcome.
    PQpipelineSync(pg);

    // Each statement's result and a null after it, then the sync. After an
    // error the rest are PGRES_PIPELINE_ABORTED.
    const size_t commit_index = deferred_.size();
    size_t index = 0;
    bool committed = false;
    std::string error_state, error_message, error_statement;
    while (index <= commit_index + 1) {
      PGresult* r = PQgetResult(pg);
      if (r == nullptr) {
        if (PQstatus(pg) == CONNECTION_BAD) break;
        ++index;
        continue;
      }
      const ExecStatusType status = PQresultStatus(r);
      if (status == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        break;
      }
      if (status == PGRES_COMMAND_OK && index == commit_index) committed = true;
      if (status == PGRES_FATAL_ERROR && error_message.empty()) {
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        error_state = state == nullptr ? "" : state;
        error_message = PQresultErrorMessage(r);
        error_statement =
            index < commit_index ? deferred_[index].name : "COMMIT";
      }
      PQclear(r);
    }
    deferred_.clear();
    if (PQstatus(pg) == CONNECTION_BAD) {
      if (committed) return;  // the answer came; the sync did not matter
      throw pqxx::in_doubt_error("the connection was lost while committing: " +
                                 error_message);
    }
    PQexitPipelineMode(pg);
    if (committed) return;
    // A failed statement leaves the transaction open and aborted (COMMIT
    // never ran): roll it back, or the connection would go back to the pool
    // inside it. A failed COMMIT has ended it already.
    if (PQtransactionStatus(pg) != PQTRANS_IDLE) direct_exec("ROLLBACK");
    if (error_message.empty()) error_message = "COMMIT did not complete";
    ThrowSqlError(error_state, error_message, error_statement);
  }

  void do_begin() override {
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

  const std::string begin_sql_;
  std::vector<DeferredStatement> deferred_;
};

// Runs `work` in `txn` and commits it if the work succeeded.
template <typename Txn, typename Work>
absl::Status RunIn(Txn& txn, const Work& work) {
  absl::Status status = work(txn);
  if (!status.ok()) return status;  // the destructor rolls back
  txn.commit();
  return absl::OkStatus();
}

template <typename Txn>
absl::Status Attempt(ConnectionPool& pool, const TransactionOptions& options,
                     const std::function<absl::Status(Txn&)>& work,
                     bool* retry) {
  *retry = false;
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Borrow(options.deadline);
  if (!lease.ok()) {
    return absl::Status(
        lease.status().code(),
        absl::StrCat(options.what, ": ", lease.status().message()));
  }
  try {
    if constexpr (std::is_same_v<Txn, pqxx::nontransaction>) {
      pqxx::nontransaction txn(**lease);
      return RunIn(txn, work);
    } else {
      BoundedWork txn(**lease, BeginSql(options.deadline));
      return RunIn(txn, work);
    }
  } catch (const std::exception& e) {
    *retry = IsRetryable(e);
    if (IsConnectionLost(e)) {
      lease->Discard();
    } else if (!(*lease)->is_open()) {
      // An error whose kind does not say so, on a connection that is gone
      // now (never during COMMIT: that is in_doubt_error): the broken
      // connection it is, not an internal error.
      lease->Discard();
      return StatusFromException(pqxx::broken_connection(e.what()),
                                 options.what);
    }
    return StatusFromException(e, options.what);
  }
}

template <typename Txn>
absl::Status Run(ConnectionPool& pool, const TransactionOptions& options,
                 const std::function<absl::Status(Txn&)>& work) {
  absl::Status last;
  for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
    bool retry = false;
    last = Attempt<Txn>(pool, options, work, &retry);
    if (last.ok() || !retry) return last;
    if (absl::Now() >= options.deadline) break;
    // A short, growing pause lets the conflicting transaction finish.
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
  }
  return last;
}

}  // namespace

absl::Status RunTransaction(
    ConnectionPool& pool, const TransactionOptions& options,
    const std::function<absl::Status(Transaction&)>& work) {
  return Run<Transaction>(pool, options, work);
}

void ExecAtCommit(Transaction& txn, const std::string& name,
                  std::vector<std::string> params) {
  if (auto* bounded = dynamic_cast<BoundedWork*>(&txn)) {
    bounded->Defer({name, std::move(params)});
    return;
  }
  txn.exec_prepared(name, pqxx::prepare::make_dynamic_params(params));
}

absl::Status RunReadOnly(
    ConnectionPool& pool, const TransactionOptions& options,
    const std::function<absl::Status(pqxx::nontransaction&)>& work) {
  return Run<pqxx::nontransaction>(pool, options, work);
}

}  // namespace mcpreg::storage::pg
