// Tool policies in PostgreSQL, and the notification every replica listens to
// so its compiled-policy cache never serves a stale policy.
#ifndef MCPREG_STORAGE_PG_POLICY_STORE_H_
#define MCPREG_STORAGE_PG_POLICY_STORE_H_

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mcpreg/v1/registry.pb.h"
#include "storage/pg/audit_store.h"
#include "storage/pg/connection_pool.h"
#include "storage/policy_store.h"

namespace mcpreg::storage::pg {

// LISTEN/NOTIFY channel; the payload is the server id whose policy changed
// (set, or removed with its server).
inline constexpr char kPolicyChannel[] = "mcpreg_policy";

void PreparePolicyStatements(pqxx::connection& c);

// Queues a notification that `server_id`'s policy changed; delivered to every
// listener when `txn` commits, never if it rolls back.
void NotifyPolicyChanged(pqxx::transaction_base& txn, int64_t server_id);

// LISTEN/NOTIFY channel for token revocations and grant changes (no
// payload): caches of access decisions start over when it fires.
inline constexpr char kAccessChannel[] = "mcpreg_access";

// Queues a notification on kAccessChannel, delivered when `txn` commits.
void NotifyAccessChanged(pqxx::transaction_base& txn);

// storage/policy_store.h, on PostgreSQL.
class PgPolicyStore : public PolicyStore {
 public:
  explicit PgPolicyStore(ConnectionPool& pool) : pool_(pool) {}

  // The server named `name_or_display` in the project with its policy.
  // NOT_FOUND when there is no such server.
  absl::StatusOr<ServerPolicy> Load(const std::string& project_key,
                                    const std::string& name_or_display,
                                    absl::Time deadline) override;

  absl::StatusOr<v1::ToolPolicy> Set(const ServerPolicy& server,
                                     const v1::ToolPolicy& policy,
                                     const std::string& actor,
                                     const AuditEvent& audit,
                                     absl::Time deadline) override;

 private:
  ConnectionPool& pool_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_POLICY_STORE_H_
