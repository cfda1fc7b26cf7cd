#include "storage/pg/transaction.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/pg/call_interrupt.h"
#include "storage/pg/libpqxx6.h"
#include "storage/pg/pg_status.h"

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
    return WithPrefix(lease.status(), absl::StrCat(options.what, ": "));
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
