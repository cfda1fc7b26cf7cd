// A bounded pool of PostgreSQL connections (one per in-flight call, as
// libpqxx wants). Borrowing waits up to the caller's deadline; a lease gives
// the connection back, or discards it when it broke, so the pool heals by
// reconnecting on the next borrow once the database is back.
#ifndef MCPREG_STORAGE_PG_CONNECTION_POOL_H_
#define MCPREG_STORAGE_PG_CONNECTION_POOL_H_

#include <libpq-fe.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mcpreg::storage::pg {

struct PoolOptions {
  std::string conninfo;  // libpq connection string or URI
  size_t max_connections = 16;
  // Every statement on the pool's connections is cancelled after this long
  // (the session's statement_timeout), unless its transaction sets its own
  // bound (RunTransaction: its deadline); zero leaves the server's setting.
  // A shorter limit the database already sets for the session stays.
  absl::Duration statement_timeout = absl::ZeroDuration();
  // Runs on every new connection (session settings, prepared statements).
  std::function<void(pqxx::connection&)> on_connect;
};

// `d` as a statement_timeout in milliseconds: at least 1 (0 would mean no
// limit) and at most PostgreSQL's largest (INT_MAX).
int64_t StatementTimeoutMs(absl::Duration d);

class ConnectionPool {
  // A connection and its cancel key, which lets another thread cancel the
  // statement it runs (libpq's PQcancel; call_interrupt.h). Shared: a
  // request may still be on its way when the connection is closed.
  struct Pooled {
    std::unique_ptr<pqxx::connection> connection;
    std::shared_ptr<PGcancel> cancel_key;
  };

 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();  // returns the connection, or drops it if discarded or closed

    pqxx::connection& operator*() { return *pooled_.connection; }
    pqxx::connection* operator->() { return pooled_.connection.get(); }
    const std::shared_ptr<PGcancel>& cancel_key() const {
      return pooled_.cancel_key;
    }
    // The connection is unusable (it broke mid-call, or was sent a cancel
    // request that may yet arrive): do not reuse it.
    void Discard() { discard_ = true; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, Pooled pooled)
        : pool_(pool), pooled_(std::move(pooled)) {}

    ConnectionPool* pool_;
    Pooled pooled_;
    bool discard_ = false;
  };

  explicit ConnectionPool(PoolOptions options);
  ~ConnectionPool();  // leases must all have been returned

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // An idle connection, a new one if below the bound, or the next one given
  // back before `deadline`. DEADLINE_EXCEEDED when none frees up in time;
  // UNAVAILABLE when a new connection cannot be made.
  // `abandoned`, when given, is polled while waiting: once it says true the
  // wait ends with CANCELLED (the call it was for was cancelled).
  absl::StatusOr<Lease> Borrow(
      absl::Time deadline,
      const std::function<bool()>& abandoned = std::function<bool()>());

  struct Stats {
    size_t open = 0;  // idle + leased
    size_t idle = 0;
    size_t waiting = 0;  // callers blocked in Borrow
  };
  Stats stats();

  // The statement_timeout the database gives a session that sets none
  // (ALTER ROLE or DATABASE … SET, postgresql.conf, PGOPTIONS), as the
  // newest connection found it; InfiniteDuration when there is none.
  absl::Duration database_statement_timeout() const;
  // `want` as a statement_timeout in milliseconds (StatementTimeoutMs), but
  // no longer than database_statement_timeout(): an operator's limit may be
  // tightened for a call, never loosened.
  int64_t BoundedStatementTimeoutMs(absl::Duration want) const;

 private:
  void Return(Pooled pooled, bool discard);
  absl::StatusOr<Pooled> Connect();

  const PoolOptions options_;
  std::atomic<int64_t> database_timeout_ms_{0};  // 0: none
  absl::Mutex mu_;
  std::vector<Pooled> idle_ ABSL_GUARDED_BY(mu_);
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;
  size_t waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_CONNECTION_POOL_H_
