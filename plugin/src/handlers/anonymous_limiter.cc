#include "plugin/src/handlers/anonymous_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "plugin/sdk/status_details.h"

namespace mcpreg {

std::string PeerAddress(absl::string_view peer) {
  for (absl::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (absl::StartsWith(peer, scheme)) peer.remove_prefix(scheme.size());
  }
  if (absl::StartsWith(peer, "[")) {
    const size_t close = peer.find(']');
    return std::string(peer.substr(1, close == absl::string_view::npos
                                          ? absl::string_view::npos
                                          : close - 1));
  }
  const size_t colon = peer.rfind(':');
  return std::string(peer.substr(0, colon));
}

AnonymousLimiter::AnonymousLimiter(storage::AuditLog& audit,
                                   const sdk::HostLog& log,
                                   AnonymousLimits limits)
    : audit_(audit), log_(log), limits_(limits) {
  flusher_ = std::thread([this] { FlushLoop(); });
}

AnonymousLimiter::~AnonymousLimiter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  flusher_.join();
  Flush(/*all=*/true);
}

AnonymousLimiter::Peer& AnonymousLimiter::Get(const std::string& address,
                                              absl::Time now) {
  auto [it, fresh] = peers_.try_emplace(address);
  Peer& p = it->second;
  if (fresh) {
    if (peers_.size() > limits_.max_peers) {
      // Bounded memory under a spray of addresses: forget the quiet ones.
      for (auto i = peers_.begin(); i != peers_.end();) {
        if (i->first != address && i->second.unwritten == 0) {
          peers_.erase(i++);
        } else {
          ++i;
        }
      }
    }
    p.tokens = limits_.burst;
    p.refilled = now;
    return peers_[address];
  }
  p.tokens = std::min(limits_.burst,
                      p.tokens + absl::ToDoubleSeconds(now - p.refilled) *
                                     limits_.rate_per_second);
  p.refilled = now;
  return p;
}

storage::AuditEvent AnonymousLimiter::Summary(const Peer& p,
                                              const std::string& address,
                                              absl::Time now) {
  storage::AuditEvent row = p.last;
  row.reason = absl::StrCat(
      p.unwritten, " more requests without valid credentials from ", address,
      " within ", absl::FormatDuration(now - p.window_start),
      " (the last: ", p.last.reason, ")");
  row.details_json =
      absl::StrCat("{\"peer\":\"", address, "\",\"count\":", p.unwritten, "}");
  return row;
}

std::vector<storage::AuditEvent> AnonymousLimiter::Count(
    Peer& p, const std::string& address, const storage::AuditEvent& event,
    absl::Time now) {
  std::vector<storage::AuditEvent> rows;
  if (p.window_start != absl::Time() &&
      now - p.window_start < limits_.audit_window) {
    ++p.unwritten;
    p.last = event;
    return rows;
  }
  if (p.unwritten > 0) rows.push_back(Summary(p, address, now));
  p.window_start = now;
  p.unwritten = 0;
  p.last = event;
  storage::AuditEvent own = event;
  own.details_json = absl::StrCat("{\"peer\":\"", address, "\"}");
  rows.push_back(std::move(own));
  return rows;
}

absl::Status AnonymousLimiter::Admit(const std::string& peer,
                                     const storage::AuditEvent& event) {
  const std::string address = PeerAddress(peer);
  const absl::Time now = absl::Now();
  std::vector<storage::AuditEvent> rows;
  std::string message;
  int64_t retry_seconds = 1;
  {
    absl::MutexLock lock(&mu_);
    Peer& p = Get(address, now);
    if (p.tokens >= 1) return absl::OkStatus();
    // Whole seconds, as HTTP's Retry-After counts them: the token is there
    // by then.
    retry_seconds = std::max<int64_t>(
        1, static_cast<int64_t>(
               std::ceil((1 - p.tokens) / limits_.rate_per_second)));
    message = absl::StrCat("too many requests without valid credentials from ",
                           address, "; retry after ", retry_seconds, " s");
    storage::AuditEvent refused = event;
    refused.decision = "DENY";
    refused.reason = message;
    rows = Count(p, address, refused, now);
  }
  for (storage::AuditEvent& row : rows) Write(std::move(row));
  return WithRetryDelay(absl::ResourceExhaustedError(message),
                        absl::Seconds(retry_seconds));
}

void AnonymousLimiter::Refused(const std::string& peer,
                               const storage::AuditEvent& event) {
  const std::string address = PeerAddress(peer);
  const absl::Time now = absl::Now();
  std::vector<storage::AuditEvent> rows;
  {
    absl::MutexLock lock(&mu_);
    Peer& p = Get(address, now);
    p.tokens = std::max(0.0, p.tokens - 1);
    rows = Count(p, address, event, now);
  }
  for (storage::AuditEvent& row : rows) Write(std::move(row));
}

void AnonymousLimiter::Write(storage::AuditEvent event) {
  if (absl::Status s = audit_.Append(event, absl::Now()); !s.ok()) {
    log_.Warning(absl::StrCat(
        "request ", event.request_id,
        ": could not audit an unauthenticated call: ", s.message()));
  }
}

void AnonymousLimiter::Flush(bool all) {
  std::vector<storage::AuditEvent> rows;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    for (auto& [address, p] : peers_) {
      if (p.unwritten == 0) continue;
      if (!all && now - p.window_start < limits_.audit_window) continue;
      rows.push_back(Summary(p, address, now));
      p.unwritten = 0;
      p.window_start = absl::Time();  // the next refusal opens a window
    }
  }
  for (storage::AuditEvent& row : rows) Write(std::move(row));
}

void AnonymousLimiter::FlushLoop() {
  const absl::Duration tick =
      std::min(absl::Seconds(1), limits_.audit_window / 4);
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), tick)) return;
    }
    Flush(/*all=*/false);
  }
}

}  // namespace mcpreg
