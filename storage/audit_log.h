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
};

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
