// Tool policies: what handlers and the policy cache ask of storage. The
// PostgreSQL implementation is storage/pg/policy_store.h.
#ifndef MCPREG_STORAGE_POLICY_STORE_H_
#define MCPREG_STORAGE_POLICY_STORE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mcpreg/v1/registry.pb.h"
#include "storage/audit_log.h"

namespace mcpreg::storage {

// What a tool-call check needs to know about a server.
struct ServerPolicy {
  int64_t server_id = 0;
  std::string name;
  std::string display_name;
  std::string repo_key;
  std::string package_type;
  std::optional<v1::ToolPolicy>
      policy;  // mode, entries, updated_*; none = zero trust
  std::string project_key;
  // The policy's revision (unique across policies, never reused; 0 when
  // the server has none): what a decision taken on it names in its audit
  // row (AuditEvent::policy_revision).
  int64_t policy_revision = 0;
  // Tool definitions (storage/tool_definition_store.h), read with the
  // policy so that a check needs no other read: each as (tool, digest).
  std::vector<std::pair<std::string, std::string>> definitions;  // recorded
  std::vector<std::pair<std::string, std::string>> approved_definitions;
  // (version, tool, digest): which version showed which definition.
  std::vector<std::array<std::string, 3>> definition_sightings;
  // Tools that ever had an approved definition, revoked ones included:
  // trust on first use is spent on them.
  std::vector<std::string> tools_ever_approved;
};

class PolicyStore {
 public:
  virtual ~PolicyStore() = default;

  // The server named `name_or_display` in the project with its policy.
  // NOT_FOUND when there is no such server.
  virtual absl::StatusOr<ServerPolicy> Load(const std::string& project_key,
                                            const std::string& name_or_display,
                                            absl::Time deadline) = 0;

  // Replaces the policy of `server` (mode and entries of `policy`), writes
  // `audit` and notifies every replica, atomically, and returns the policy
  // as that transaction stored it: a caller told OK knows it is in force
  // (no second read that an unregister could make fail after the commit).
  // NOT_FOUND when the server was unregistered meanwhile.
  virtual absl::StatusOr<v1::ToolPolicy> Set(const ServerPolicy& server,
                                             const v1::ToolPolicy& policy,
                                             const std::string& actor,
                                             const AuditEvent& audit,
                                             absl::Time deadline) = 0;
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_POLICY_STORE_H_
