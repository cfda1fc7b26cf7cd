// What CheckToolCall and FilterTools need for pinned tool definitions and
// argument conditions: reported definitions canonicalized, whether a report
// brings anything the store has not recorded, and the bounds on a call's
// arguments.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_TOOL_DEFINITIONS_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_TOOL_DEFINITIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcpreg/v1/registry.pb.h"
#include "plugin/src/governance/policy_cache.h"
#include "storage/tool_definition_store.h"

namespace mcpreg {

inline constexpr int kMaxReportedDefinitions = 100;
inline constexpr size_t kMaxArgumentBytes = 64 << 10;
// Protobuf parses at most 100 nested messages, about 33 levels of JSON
// objects in a Struct; 20 leaves room and is deeper than tools need.
inline constexpr int kMaxArgumentDepth = 20;

// One entry of a FilterTools request's definitions.
struct ReportedEntry {
  storage::ReportedDefinition definition;  // digest empty if too large
  // Why it cannot be pinned or listed: too large or too deep to pin, or
  // its name is on the page twice (which one the server would run is its
  // choice). Such an entry is neither recorded nor approved.
  std::string problem;
  bool duplicate = false;  // the name is on the page more than once
  bool pinnable() const { return problem.empty(); }
};

// The request's definitions, canonical and digested, in order;
// INVALID_ARGUMENT naming "definitions[i].name" for an entry without a name.
absl::StatusOr<std::vector<ReportedEntry>> CanonicalDefinitions(
    const v1::FilterToolsRequest& request);

// The pinnable ones, for the store.
std::vector<storage::ReportedDefinition> Pinnable(
    const std::vector<ReportedEntry>& entries);

// "definitionDigest": empty or 64 lower-case hex digits.
absl::Status ValidateDigest(const std::string& digest, absl::string_view field);

// At most kMaxArgumentBytes serialized and kMaxArgumentDepth deep.
absl::Status ValidateArguments(const google::protobuf::Struct& arguments,
                               absl::string_view field);

// Whether `reported` (from `version`) holds a definition or a sighting the
// store has not recorded, or one that trust on first use may approve: then
// the report is written before the filter is decided.
bool NeedsRecording(const CachedServerPolicy& server,
                    const std::string& version,
                    const std::vector<storage::ReportedDefinition>& reported);

// The decision on one call, name and arguments first, then (for a pinned
// server) the definition the caller's session saw.
policy::Decision DecideCall(const CachedServerPolicy& server,
                            const v1::CheckToolCallRequest& request);

// One listed tool's approval: PENDING under pinning unless its digest is
// approved.
v1::ToolDefinitionStatus::Approval ApprovalOf(const CachedServerPolicy& server,
                                              const ReportedEntry& entry);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_TOOL_DEFINITIONS_H_
