// Calls without valid credentials, per peer address: each costs an audit
// row and (for an unknown token) a database read, so a loop of them would
// compete with every real check. A token bucket per peer refuses the excess
// with RESOURCE_EXHAUSTED before any database work, and the refusals are
// audited one row per peer and window — the first at once, the rest as a
// count when the window closes — so every refusal is on the record without
// one chained row each.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_ANONYMOUS_LIMITER_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_ANONYMOUS_LIMITER_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "plugin/sdk/host_log.h"
#include "storage/audit_log.h"

namespace mcpreg {

struct AnonymousLimits {
  double rate_per_second = 5;
  double burst = 20;
  absl::Duration audit_window = absl::Seconds(10);
  size_t max_peers = 100000;  // tracked at once; the oldest are forgotten
};

// "ipv4:127.0.0.1:5311" -> "127.0.0.1", "ipv6:[::1]:80" -> "::1".
std::string PeerAddress(absl::string_view peer);

class AnonymousLimiter {
 public:
  AnonymousLimiter(storage::AuditLog& audit, const sdk::HostLog& log,
                   AnonymousLimits limits);
  // Writes the windows still open.
  ~AnonymousLimiter();

  // OK unless `peer` has used up its refusals: then RESOURCE_EXHAUSTED,
  // saying when to retry, and the refusal is counted. Costs no I/O.
  absl::Status Admit(const std::string& peer, const storage::AuditEvent& event);

  // A call from `peer` was refused as unauthenticated: counted against its
  // budget and audited (at once if it opens a window, else in the
  // window's summary).
  void Refused(const std::string& peer, const storage::AuditEvent& event);

 private:
  struct Peer {
    double tokens = 0;
    absl::Time refilled;
    absl::Time window_start;
    int64_t unwritten = 0;  // refusals since the window's first row
    storage::AuditEvent last;
  };
  // The peer's state, refilled to now; created full.
  Peer& Get(const std::string& address, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts one refusal; the rows to write now: the summary of the peer's
  // previous window when it closed unwritten, and this refusal's own when
  // it opens a window.
  std::vector<storage::AuditEvent> Count(Peer& p, const std::string& address,
                                         const storage::AuditEvent& event,
                                         absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static storage::AuditEvent Summary(const Peer& p, const std::string& address,
                                     absl::Time now);
  void Write(storage::AuditEvent event);
  void Flush(bool all);
  void FlushLoop();

  storage::AuditLog& audit_;
  const sdk::HostLog& log_;
  const AnonymousLimits limits_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Peer> peers_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread flusher_;
};

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_ANONYMOUS_LIMITER_H_
