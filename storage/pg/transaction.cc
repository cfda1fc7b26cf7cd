#include "transaction.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "call_interrupt.h"
#include "libpq_connection.h"
#include "pg_status.h"
#include "pipelined_commit.h"

namespace mcpreg::storage::pg {
namespace {

// The command that opens a transaction: BEGIN and, with a deadline, a
// statement_timeout for the rest of the transaction (the time left, or the
// database's own limit if shorter), so the database stops working for a
// caller who is gone. One message.
std::string BeginSql(const ConnectionPool& pool, absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return "BEGIN";
  return absl::StrCat("BEGIN; SET LOCAL statement_timeout = ",
                      pool.BoundedStatementTimeoutMs(deadline - absl::Now()));
}

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

  void Defer(PreparedCall statement) {
    // Prepared now, if this connection has not yet: PREPARE may fail, and
    // then it fails the work, not the commit.
    conn().prepare_now(statement.name);
    deferred_.push_back(std::move(statement));
  }

 private:
  void do_commit() override {
    if (deferred_.empty()) {
      CommitAlone();
    } else {
      CommitWithDeferred();
    }
  }

  // basic_transaction's own, which a subclass cannot call: COMMIT, and a
  // connection lost on the way makes the outcome unknown.
  void CommitAlone() {
    try {
      direct_exec("COMMIT");
    } catch (const pqxx::statement_completion_unknown& e) {
      throw pqxx::in_doubt_error(e.what());
    } catch (const std::exception& e) {
      if (!conn().is_open()) throw pqxx::in_doubt_error(e.what());
      throw;
    }
  }

  void CommitWithDeferred() {
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
  std::vector<PreparedCall> deferred_;
};

// Runs `work` in `txn` and commits it if the work succeeded.
template <typename Txn, typename Work>
absl::Status RunIn(Txn& txn, const Work& work) {
  absl::Status status = work(txn);
  if (!status.ok()) return status;  // the destructor rolls back
  txn.commit();
  return absl::OkStatus();
}

// One attempt of `work` on a leased connection.
template <typename Txn>
absl::Status AttemptOn(const ConnectionPool& pool, ConnectionPool::Lease& lease,
                       const TransactionOptions& options,
                       const std::function<absl::Status(Txn&)>& work,
                       bool* retry) {
  try {
    if constexpr (std::is_same_v<Txn, pqxx::nontransaction>) {
      pqxx::nontransaction txn(*lease);
      return RunIn(txn, work);
    } else {
      BoundedWork txn(*lease, BeginSql(pool, options.deadline));
      return RunIn(txn, work);
    }
  } catch (const std::exception& e) {
    *retry = IsRetryable(e);
    if (IsConnectionLost(e)) {
      lease.Discard();
    } else if (!lease->is_open()) {
      // An error whose kind does not say so, on a connection that is gone
      // now (never during COMMIT: that is in_doubt_error): the broken
      // connection it is, not an internal error.
      lease.Discard();
      return StatusFromException(pqxx::broken_connection(e.what()),
                                 options.what);
    }
    return StatusFromException(e, options.what);
  }
}

absl::Status Cancelled(const TransactionOptions& options) {
  return absl::CancelledError(
      absl::StrCat(options.what, ": the call was cancelled"));
}

// One attempt, interruptible by the call's cancellation (call_interrupt.h).
template <typename Txn>
absl::Status Attempt(ConnectionPool& pool, const TransactionOptions& options,
                     const std::function<absl::Status(Txn&)>& work,
                     bool* retry) {
  *retry = false;
  CallInterrupt* const interrupt = CallInterrupt::Current();
  const auto interrupted = [interrupt] {
    return interrupt != nullptr && interrupt->interrupted();
  };
  if (interrupted()) return Cancelled(options);
  absl::StatusOr<ConnectionPool::Lease> lease =
      interrupt == nullptr ? pool.Borrow(options.deadline)
                           : pool.Borrow(options.deadline, interrupted);
  if (!lease.ok()) {
    return absl::Status(
        lease.status().code(),
        absl::StrCat(options.what, ": ", lease.status().message()));
  }
  absl::Status status;
  bool ran = false;
  bool cancel_sent = false;
  {
    CallInterrupt::Armed armed(interrupt, lease->cancel_key());
    if (!interrupted()) {
      status = AttemptOn(pool, *lease, options, work, retry);
      ran = true;
    }
    cancel_sent = armed.Disarm();
  }
  if (cancel_sent) lease->Discard();
  if (!ran) return Cancelled(options);
  // A statement the request cancelled fails as a statement_timeout would
  // (SQLSTATE 57014): that is the cancel, not a deadline. Any other outcome
  // stands as it is — work that committed first, or a commit in doubt.
  if (cancel_sent && status.code() == absl::StatusCode::kDeadlineExceeded) {
    *retry = false;
    return Cancelled(options);
  }
  return status;
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
