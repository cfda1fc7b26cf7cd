#include "connection_pool.h"

#include <algorithm>
#include <limits>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pg_status.h"

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
      connection_(std::move(other.connection_)),
      discard_(other.discard_) {}

ConnectionPool::Lease::~Lease() {
  if (connection_ != nullptr) pool_->Return(std::move(connection_), discard_);
}

ConnectionPool::ConnectionPool(PoolOptions options)
    : options_(std::move(options)) {}

ConnectionPool::~ConnectionPool() = default;

absl::StatusOr<std::unique_ptr<pqxx::connection>> ConnectionPool::Connect() {
  try {
    auto c = std::make_unique<pqxx::connection>(options_.conninfo);
    {  // closed before on_connect opens its own
      pqxx::nontransaction session(*c);
      const pqxx::row row =
          options_.statement_timeout > absl::ZeroDuration()
              ? session.exec_params1(
                    kPinStatementTimeout,
                    StatementTimeoutMs(options_.statement_timeout))
              : session.exec1(kReadStatementTimeout);
      database_timeout_ms_.store(row[0].as<int64_t>(),
                                 std::memory_order_relaxed);
    }
    if (options_.on_connect) options_.on_connect(*c);
    return c;
  } catch (const std::exception& e) {
    return StatusFromException(e, "connecting to PostgreSQL");
  }
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Borrow(
    absl::Time deadline) {
  mu_.Lock();
  for (;;) {
    // Connections that died while idle are dropped here, not handed out.
    while (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> c = std::move(idle_.back());
      idle_.pop_back();
      if (c->is_open()) {
        mu_.Unlock();
        return Lease(this, std::move(c));
      }
      --open_;
    }
    if (open_ < options_.max_connections) {
      ++open_;  // reserve the slot; connect without holding the lock
      mu_.Unlock();
      absl::StatusOr<std::unique_ptr<pqxx::connection>> c = Connect();
      if (!c.ok()) {
        absl::MutexLock lock(&mu_);
        --open_;
        return c.status();
      }
      return Lease(this, std::move(*c));
    }
    ++waiting_;
    const bool woke = mu_.AwaitWithDeadline(
        absl::Condition(
            +[](ConnectionPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
              return !p->idle_.empty() ||
                     p->open_ < p->options_.max_connections;
            },
            this),
        deadline);
    --waiting_;
    if (!woke) {
      const size_t max = options_.max_connections;
      mu_.Unlock();
      return absl::DeadlineExceededError(absl::StrCat(
          "all ", max,
          " database connections stayed busy until the call's deadline"));
    }
  }
}

void ConnectionPool::Return(std::unique_ptr<pqxx::connection> c, bool discard) {
  const bool reusable = !discard && c->is_open();
  if (!reusable) c.reset();  // close outside the lock
  absl::MutexLock lock(&mu_);
  if (reusable) {
    idle_.push_back(std::move(c));
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
