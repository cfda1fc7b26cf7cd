// The append-only, hash-chained audit log: what handlers ask of it. Rows of
// an action that changes something are written by that action's own store
// call, in its transaction; this interface appends the rest (denials, each
// tool-call decision) and reads the log. The PostgreSQL implementation is
// storage/pg/pg_audit_log.h.
#ifndef MCPREG_STORAGE_AUDIT_LOG_H_
#define MCPREG_STORAGE_AUDIT_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/time/time.h"
#include "mcpreg/v1/registry.pb.h"

namespace mcpreg::storage {

struct AuditEvent {
  std::string actor;   // principal, or "anonymous"
  std::string action;  // "register", "unregister", "token.create", ...
  std::string project_key;
  std::string server;  // display name when known
  std::string tool;
  std::string decision;  // "ALLOW", "DENY" or "ERROR"
  std::string reason;
  std::string request_id;
  std::string details_json = "{}";
  // Set on a tool-call decision: the server whose policy decided it and
  // that policy's revision (0: the server had none). The group commit
  // writes the row only while that revision is still in force, and
  // otherwise fails the append with StalePolicyError — a policy replaced
  // and acknowledged on another replica after the call arrived must not
  // have its old decision answered. 0 (the default): no such condition.
  int64_t policy_server_id = 0;
  int64_t policy_revision = 0;
};

// The row was not written: its decision's policy has been replaced since
// (see AuditEvent::policy_revision). Decide again on the current one.
inline absl::Status StalePolicyError() {
  absl::Status s = absl::AbortedError(
      "the server's tool policy changed while the decision was being "
      "recorded");
  s.SetPayload("mcpreg.stale-policy", absl::Cord("1"));
  return s;
}
inline bool IsStalePolicy(const absl::Status& s) {
  return s.code() == absl::StatusCode::kAborted &&
         s.GetPayload("mcpreg.stale-policy").has_value();
}

// Filters of ListAuditEvents; empty strings and zero times mean "any".
struct AuditQuery {
  std::string project_key;   // required
  int64_t since_micros = 0;  // inclusive
  int64_t until_micros = 0;  // exclusive
  std::string actor, server, tool, action, decision;
  int64_t before_id = 0;  // cursor: rows with a smaller id (0 = newest)
  uint32_t limit = 100;
};

struct AuditPage {
  std::vector<v1::AuditEvent> events;  // newest first
  int64_t next_before_id = 0;          // 0 when this was the last page
};

struct ChainVerdict {
  bool intact = true;
  int64_t rows_checked = 0;
  int64_t first_broken_id = 0;
  std::string problem;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // One row in a transaction of its own (a denial, which changes nothing
  // else), even if the call has been cancelled.
  virtual absl::Status Append(const AuditEvent& event, absl::Time deadline) = 0;

  // Told the outcome of one row: OK once it is durable, or why not.
  using Done = std::function<void(const absl::Status&)>;

  // Queues `event` for a group commit and returns at once; `done` runs
  // exactly once when the row is durable or has failed (the hot path's
  // rows: a check is answered only once its row is durable). `done` must
  // not block.
  virtual void AppendAsync(const AuditEvent& event, Done done) = 0;

  // The rows `query` selects, newest first, a page at a time.
  virtual absl::StatusOr<AuditPage> List(const AuditQuery& query,
                                         absl::Time deadline) = 0;

  // Recomputes the chain and reports the first broken link.
  virtual absl::StatusOr<ChainVerdict> Verify(absl::Time deadline) = 0;
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_AUDIT_LOG_H_
