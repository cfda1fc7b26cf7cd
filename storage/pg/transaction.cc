#include "transaction.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pg_status.h"

namespace mcpreg::storage::pg {
namespace {

// statement_timeout for the rest of this transaction: the time left to the
// call's deadline, so the database stops working for a caller who is gone.
std::string StatementTimeoutSql(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return "";
  const int64_t ms =
      std::max<int64_t>(1, absl::ToInt64Milliseconds(deadline - absl::Now()));
  return absl::StrCat("SET LOCAL statement_timeout = ", ms);
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
    Txn txn(**lease);
    if (std::string sql = StatementTimeoutSql(options.deadline);
        !sql.empty() && std::is_same_v<Txn, pqxx::work>) {
      txn.exec(sql);
    }
    absl::Status status = work(txn);
    if (!status.ok()) return status;  // the destructor rolls back
    txn.commit();
    return absl::OkStatus();
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
    const std::function<absl::Status(pqxx::work&)>& work) {
  return Run<pqxx::work>(pool, options, work);
}

absl::Status RunReadOnly(
    ConnectionPool& pool, const TransactionOptions& options,
    const std::function<absl::Status(pqxx::nontransaction&)>& work) {
  return Run<pqxx::nontransaction>(pool, options, work);
}

}  // namespace mcpreg::storage::pg
