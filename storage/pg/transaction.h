// Runs a unit of work in one database transaction with a leased connection,
// bounded by the call's deadline, retrying only what is safe to retry
// (rolled-back conflicts, a connection lost before COMMIT). A commit whose
// outcome is unknown is reported, never retried blindly.
#ifndef MCPREG_STORAGE_PG_TRANSACTION_H_
#define MCPREG_STORAGE_PG_TRANSACTION_H_

#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/pg/connection_pool.h"

namespace mcpreg::storage::pg {

// What RunTransaction's work runs its statements in.
using Transaction = pqxx::transaction_base;

struct TransactionOptions {
  absl::Time deadline = absl::InfiniteFuture();
  int max_attempts = 4;
  // Said in error messages: "registering pypi:ai-pypi-local:mcp-server".
  std::string what = "database work";
};

// `work` returns a Status; a non-OK status rolls the transaction back and is
// returned as is. Exceptions from libpqxx become statuses (pg_status.h).
// The transaction is READ COMMITTED; its statements are bounded by the time
// left to the deadline (without one, by the pool's statement_timeout).
absl::Status RunTransaction(
    ConnectionPool& pool, const TransactionOptions& options,
    const std::function<absl::Status(Transaction&)>& work);

// Runs the prepared statement `name` with `params` as `txn`'s last
// statement, sent with its COMMIT in one pipeline: one round trip for both,
// and a lock the statement takes (the audit chain's) is held while the
// server runs the two, not also while this process is woken to send
// COMMIT. Its errors are the commit's. In a transaction RunTransaction did
// not begin, it runs now.
void ExecAtCommit(Transaction& txn, const std::string& name,
                  std::vector<std::string> params);

// Read-only work outside an explicit transaction (one statement at a time),
// each statement bounded by the pool's statement_timeout.
absl::Status RunReadOnly(
    ConnectionPool& pool, const TransactionOptions& options,
    const std::function<absl::Status(pqxx::nontransaction&)>& work);

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_TRANSACTION_H_
