// Tool definitions as the registry pins them: a tools/list entry without the
// members meant for the client and the person (`_meta`, `icons`) — so name,
// title, description, inputSchema, outputSchema, annotations and anything a
// later MCP adds — in canonical JSON, and its SHA-256. Canonical JSON follows
// RFC 8785 (JCS): object members sorted by their names' UTF-16 code units,
// no whitespace, strings with only the escapes JSON requires (\" \\ \b \f
// \n \r \t, \u00XX for other control characters; everything else as UTF-8),
// numbers in ECMAScript's shortest round-trip form. So key order, spacing
// and \u escapes in what a server sends never change a digest.
#ifndef MCPREG_POLICY_TOOL_DEFINITION_H_
#define MCPREG_POLICY_TOOL_DEFINITION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace mcpreg::policy {

// Limits on one definition, checked by CanonicalDefinition.
inline constexpr size_t kMaxDefinitionBytes = 64 << 10;  // canonical JSON
inline constexpr int kMaxDefinitionDepth = 32;

// The canonical JSON of `value`. INVALID_ARGUMENT for a number that is not
// finite, or nesting deeper than `max_depth`.
absl::StatusOr<std::string> CanonicalJson(const google::protobuf::Value& value,
                                          int max_depth = kMaxDefinitionDepth);

// The pinned part of a tools/list entry, canonical. INVALID_ARGUMENT naming
// `field` when "name" is missing or not a non-empty string, or the result
// is over kMaxDefinitionBytes or too deep.
absl::StatusOr<std::string> CanonicalDefinition(
    const google::protobuf::Struct& tool, absl::string_view field);

// Lower-case hex SHA-256 of a canonical definition.
std::string DefinitionDigest(absl::string_view canonical_json);

}  // namespace mcpreg::policy

#endif  // MCPREG_POLICY_TOOL_DEFINITION_H_
