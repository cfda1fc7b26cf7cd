// Whether the database can serve this plugin: a thread with one libpq
// connection of its own asks it for its schema version every 250 ms, never
// more than one question in flight, and publishes the verdict in an atomic
// that health checks read without touching the database.
//
// Its own connection, not the pool's: a busy or exhausted pool must not make
// the instance look dead, and a probe must never queue behind calls. libpq's
// asynchronous API with our own poll() timeouts, because its connect_timeout
// cannot go below 2 s.
#ifndef MCPREG_STORAGE_PG_HEALTH_PROBE_H_
#define MCPREG_STORAGE_PG_HEALTH_PROBE_H_

#include <libpq-fe.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace mcpreg::storage::pg {

// The figures the 1 s promises of docs/rest.md follow from.
struct HealthProbeOptions {
  std::string conninfo;
  // The schema version the database must be at (KnownSchemaVersion()).
  int expected_schema_version = 0;
  // A probe starts this long after the previous one started, or as soon as
  // that one ends if it took longer.
  absl::Duration interval = absl::Milliseconds(250);
  // A probe unanswered this long makes the verdict NOT_SERVING; the same
  // query is still waited for, and its late answer counts.
  absl::Duration answer_timeout = absl::Milliseconds(500);
  // A probe unanswered this long drops the connection for a new one (a TCP
  // peer that vanished never answers). The session's statement_timeout is
  // set a little shorter, so a probe blocked on a lock is ended by the
  // server instead of leaving a backend waiting behind the dropped one.
  absl::Duration stall_timeout = absl::Seconds(5);
  // Each connection attempt, handshake and session settings included. Under
  // 1 s, so that an attempt whose packets were lost (a network that heals
  // mid-attempt) is followed by one that succeeds within 1 s of the return.
  absl::Duration connect_timeout = absl::Milliseconds(750);
  // The connection's application_name, for pg_stat_activity.
  std::string application_name = "mcpreg-health";
  // Runs on the probe's thread for the first verdict and at each change,
  // with the reason; reasons never contain the conninfo.
  std::function<void(bool serving, const std::string& reason)> on_change;
};

class HealthProbe {
 public:
  // Starts probing at once; fails only when the thread cannot be set up.
  static absl::StatusOr<std::unique_ptr<HealthProbe>> Start(
      HealthProbeOptions options);
  ~HealthProbe();  // stops the thread and closes the connection

  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;

  // The latest verdict: the database answered in time and is at the
  // expected schema version. False until the first verdict. Never blocks.
  bool serving() const { return state_.load() == kServing; }

  // Waits up to `timeout` for the first verdict (it comes within
  // connect_timeout + answer_timeout); whether it came.
  bool WaitForFirstVerdict(absl::Duration timeout) const;

 private:
  enum State : int { kUnknown, kServing, kNotServing };
  enum class Wake { kReady, kTimeout, kStop };
  struct Answer;

  HealthProbe(HealthProbeOptions options, int stop_fd);
  void Run();
  // A connection with the probe's session settings, or why there is none;
  // CANCELLED when stopping.
  absl::StatusOr<PGconn*> Connect();
  // Sends `sql` and reads its answer, calling `on_late` once at `late`, and
  // giving up at `give_up`.
  Answer Ask(PGconn* conn, const char* sql, absl::Time late, absl::Time give_up,
             const std::function<void()>& on_late);
  // Waits for `events` on `fd` (fd < 0: for nothing but the stop signal)
  // until `deadline`.
  Wake WaitFor(int fd, short events, absl::Time deadline) const;
  void Publish(bool serving, const std::string& reason);

  const HealthProbeOptions options_;
  const int stop_fd_;  // an eventfd; readable once the destructor runs
  std::atomic<int> state_{kUnknown};
  absl::Notification first_verdict_;
  std::thread thread_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_HEALTH_PROBE_H_
