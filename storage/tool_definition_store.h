// Pinned tool definitions: what guards reported each server version shows,
// and which of those definitions an ALLOW holder approved
// (docs/policies.md#pinned-tool-definitions). The PostgreSQL implementation
// is storage/pg/tool_definition_store.h.
#ifndef MCPREG_STORAGE_TOOL_DEFINITION_STORE_H_
#define MCPREG_STORAGE_TOOL_DEFINITION_STORE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mcpreg/v1/registry.pb.h"
#include "storage/audit_log.h"
#include "storage/policy_store.h"

namespace mcpreg::storage {

// One tool definition as a guard reported it, canonicalized.
struct ReportedDefinition {
  std::string tool;
  std::string digest;          // hex SHA-256 of canonical_json
  std::string canonical_json;  // policy/tool_definition.h
};

// (tool, digest)
using DefinitionRef = std::pair<std::string, std::string>;

class ToolDefinitionStore {
 public:
  virtual ~ToolDefinitionStore() = default;

  // Records what `version` of `server` ("" when the reporter did not say)
  // showed. Each definition not seen before for its tool is stored once; one
  // replacing another of the same tool gets a tool.definition_changed audit
  // row (from `audit`: actor, project, request) naming both digests. When
  // `server`'s policy pins definitions with trust on first use, a tool's
  // only definition ever recorded is approved, audited as
  // tool.definition_approved. Approvals bump the policy's revision and
  // notify every replica, like a policy change. NOT_FOUND when the server
  // was unregistered meanwhile; INVALID_ARGUMENT naming "version" when it
  // is not one of the server's versions.
  virtual absl::Status Record(const ServerPolicy& server,
                              const std::string& version,
                              const std::vector<ReportedDefinition>& reported,
                              const AuditEvent& audit, absl::Time deadline) = 0;

  // Every recorded definition of `server`, by tool, newest first.
  virtual absl::StatusOr<std::vector<v1::ToolDefinitionRecord>> List(
      const ServerPolicy& server, absl::Time deadline) = 0;

  // Approves (or with `approve` false, revokes) `refs` and, when `version`
  // is not empty, every definition that version showed, as `actor`; audits
  // each change with `audit` (action tool.definition_approved or
  // tool.definition_revoked) and bumps the policy's revision. Returns the
  // definitions that changed. NOT_FOUND naming "definitions[i]" for a
  // definition never reported, or "version" for a version that reported
  // none.
  virtual absl::StatusOr<std::vector<v1::ToolDefinitionRecord>> SetApproval(
      const ServerPolicy& server, const std::vector<DefinitionRef>& refs,
      const std::string& version, bool approve, const std::string& actor,
      const AuditEvent& audit, absl::Time deadline) = 0;
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_TOOL_DEFINITION_STORE_H_
