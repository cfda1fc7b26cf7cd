#include "storage/pg/connection_pool.h"

#include <algorithm>
#include <limits>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/pg/libpqxx6.h"
#include "storage/pg/pg_status.h"

namespace mcpreg::storage::pg {

namespace {

// Reads the session's statement_timeout as the server set it up
// (pg_settings gives milliseconds whatever unit set it) and sets the
// session's to the shorter of that and $1 ms (0 there means none), in one
// round trip. Set even when the server's is the shorter: pinned, a reload
// of postgresql.conf cannot later lift the bound off a pooled session.
constexpr char kPinStatementTimeout[] = R"sql(
  SELECT setting::bigint,
         set_config('statement_timeout',
                    CASE WHEN setting::bigint = 0 THEN $1::bigint
                         ELSE least(setting::bigint, $1::bigint) END::text, false)
  FROM pg_settings WHERE name = 'statement_timeout')sql";
// The same without a bound of the pool's own: read, left as it is.
constexpr char kReadStatementTimeout[] =
    "SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'";

}  // namespace

int64_t StatementTimeoutMs(absl::Duration d) {
  return std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1,
                             std::numeric_limits<int32_t>::max());
}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_),
      pooled_(std::move(other.pooled_)),
      discard_(other.discard_) {}

ConnectionPool::Lease::~Lease() {
  if (pooled_.connection != nullptr) {
    pool_->Return(std::move(pooled_), discard_);
  }
}

ConnectionPool::ConnectionPool(PoolOptions options)
    : options_(std::move(options)) {}

ConnectionPool::~ConnectionPool() = default;

absl::StatusOr<ConnectionPool::Pooled> ConnectionPool::Connect() {
  try {
    Pooled pooled;
    pooled.connection = std::make_unique<pqxx::connection>(options_.conninfo);
    {  // closed before on_connect opens its own
      // A transaction, not autocommit: the one way libpqxx 6 leads to the
      // libpq connection, whose cancel key is read here, once, on the
      // thread that owns it. set_config(…, false) outlives its COMMIT.
      pqxx::work setup(*pooled.connection);
      pooled.cancel_key.reset(PQgetCancel(LibpqConnection::Of(setup)),
                              &PQfreeCancel);
      const pqxx::row row =
          options_.statement_timeout > absl::ZeroDuration()
              ? setup.exec_params1(
                    kPinStatementTimeout,
                    StatementTimeoutMs(options_.statement_timeout))
              : setup.exec1(kReadStatementTimeout);
      database_timeout_ms_.store(row[0].as<int64_t>(),
                                 std::memory_order_relaxed);
      setup.commit();
    }
    if (options_.on_connect) options_.on_connect(*pooled.connection);
    return pooled;
  } catch (const std::exception& e) {
    return StatusFromException(e, "connecting to PostgreSQL");
  }
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Borrow(
    absl::Time deadline, const std::function<bool()>& abandoned) {
  // How often a waiter looks at `abandoned`: a cancelled call's worker
  // leaves the queue this soon after its client.
  constexpr absl::Duration kAbandonedPoll = absl::Milliseconds(25);
  mu_.Lock();
  for (;;) {
    // Connections that died while idle are dropped here, not handed out.
    while (!idle_.empty()) {
      Pooled pooled = std::move(idle_.back());
      idle_.pop_back();
      if (pooled.connection->is_open()) {
        mu_.Unlock();
        return Lease(this, std::move(pooled));
      }
      --open_;
    }
    if (open_ < options_.max_connections) {
      ++open_;  // reserve the slot; connect without holding the lock
      mu_.Unlock();
      absl::StatusOr<Pooled> pooled = Connect();
      if (!pooled.ok()) {
        absl::MutexLock lock(&mu_);
        --open_;
        return pooled.status();
      }
      return Lease(this, std::move(*pooled));
    }
    ++waiting_;
    const absl::Time until =
        abandoned ? std::min(deadline, absl::Now() + kAbandonedPoll) : deadline;
    const bool woke = mu_.AwaitWithDeadline(
        absl::Condition(
            +[](ConnectionPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
              return !p->idle_.empty() ||
                     p->open_ < p->options_.max_connections;
            },
            this),
        until);
    --waiting_;
    if (woke) continue;
    if (absl::Now() >= deadline) {
      const size_t max = options_.max_connections;
      mu_.Unlock();
      return absl::DeadlineExceededError(absl::StrCat(
          "all ", max,
          " database connections stayed busy until the call's deadline"));
    }
    mu_.Unlock();  // `abandoned` may take locks of its own
    const bool give_up = abandoned && abandoned();
    mu_.Lock();
    if (give_up) {
      mu_.Unlock();
      return absl::CancelledError(
          "the call was cancelled while it waited for a database connection");
    }
  }
}

void ConnectionPool::Return(Pooled pooled, bool discard) {
  const bool reusable = !discard && pooled.connection->is_open();
  if (!reusable) pooled.connection.reset();  // close outside the lock
  absl::MutexLock lock(&mu_);
  if (reusable) {
    idle_.push_back(std::move(pooled));
  } else {
    --open_;
  }
}

absl::Duration ConnectionPool::database_statement_timeout() const {
  const int64_t ms = database_timeout_ms_.load(std::memory_order_relaxed);
  return ms == 0 ? absl::InfiniteDuration() : absl::Milliseconds(ms);
}

int64_t ConnectionPool::BoundedStatementTimeoutMs(absl::Duration want) const {
  return StatementTimeoutMs(std::min(want, database_statement_timeout()));
}

ConnectionPool::Stats ConnectionPool::stats() {
  absl::MutexLock lock(&mu_);
  return Stats{open_, idle_.size(), waiting_};
}

}  // namespace mcpreg::storage::pg
