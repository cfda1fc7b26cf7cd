#include "plugin/src/handlers/tool_definitions.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "policy/tool_definition.h"

namespace mcpreg {
namespace {

constexpr size_t kDigestHexDigits = 64;

int Depth(const google::protobuf::Value& v, int limit);

int Depth(const google::protobuf::Struct& s, int limit) {
  if (limit <= 0) return 1;
  int deepest = 0;
  for (const auto& [key, value] : s.fields()) {
    deepest = std::max(deepest, Depth(value, limit - 1));
  }
  return 1 + deepest;
}

// How deeply `v` nests, counting no further than `limit`.
int Depth(const google::protobuf::Value& v, int limit) {
  if (v.has_struct_value()) return Depth(v.struct_value(), limit);
  if (!v.has_list_value()) return 0;
  if (limit <= 0) return 1;
  int deepest = 0;
  for (const google::protobuf::Value& item : v.list_value().values()) {
    deepest = std::max(deepest, Depth(item, limit - 1));
  }
  return 1 + deepest;
}

}  // namespace

absl::StatusOr<std::vector<ReportedEntry>> CanonicalDefinitions(
    const v1::FilterToolsRequest& request) {
  std::vector<ReportedEntry> out(request.definitions_size());
  std::map<std::string, int> names;
  for (int i = 0; i < request.definitions_size(); ++i) {
    const google::protobuf::Struct& tool = request.definitions(i);
    const std::string field = absl::StrCat("definitions[", i, "]");
    const auto name = tool.fields().find("name");
    if (name == tool.fields().end() || !name->second.has_string_value() ||
        name->second.string_value().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".name: is required (a non-empty string)"));
    }
    ReportedEntry& entry = out[i];
    entry.definition.tool = name->second.string_value();
    ++names[entry.definition.tool];
    absl::StatusOr<std::string> canonical =
        policy::CanonicalDefinition(tool, field);
    if (!canonical.ok()) {
      // One tool the registry cannot pin does not hide the others.
      entry.problem = std::string(canonical.status().message());
      continue;
    }
    entry.definition.digest = policy::DefinitionDigest(*canonical);
    entry.definition.canonical_json = *std::move(canonical);
  }
  for (ReportedEntry& entry : out) {
    if (names[entry.definition.tool] < 2) continue;
    entry.duplicate = true;
    if (entry.problem.empty()) {
      entry.problem = absl::StrCat("the page lists tool '",
                                   entry.definition.tool, "' more than once");
    }
  }
  return out;
}

std::vector<storage::ReportedDefinition> Pinnable(
    const std::vector<ReportedEntry>& entries) {
  std::vector<storage::ReportedDefinition> out;
  for (const ReportedEntry& e : entries) {
    if (e.pinnable()) out.push_back(e.definition);
  }
  return out;
}

absl::Status ValidateDigest(const std::string& digest,
                            absl::string_view field) {
  if (digest.empty()) return absl::OkStatus();
  bool hex = digest.size() == kDigestHexDigits;
  for (char c : digest) {
    hex = hex && (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
  }
  if (!hex) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be a SHA-256 digest (64 lower-case hex digits)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateArguments(const google::protobuf::Struct& arguments,
                               absl::string_view field) {
  if (arguments.ByteSizeLong() > kMaxArgumentBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": at most ", kMaxArgumentBytes, " bytes of arguments"));
  }
  if (Depth(arguments, kMaxArgumentDepth + 1) > kMaxArgumentDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": nested deeper than ", kMaxArgumentDepth, " levels"));
  }
  return absl::OkStatus();
}

bool NeedsRecording(const CachedServerPolicy& server,
                    const std::string& version,
                    const std::vector<storage::ReportedDefinition>& reported) {
  const bool first_use = server.pinned() && server.server.policy.has_value() &&
                         server.server.policy->trust_on_first_use();
  for (const storage::ReportedDefinition& d : reported) {
    const std::string key = DefinitionKey(d.tool, d.digest);
    if (!server.recorded.contains(key)) return true;
    if (!version.empty() &&
        !server.sightings.contains(absl::StrCat(version, "\n", key))) {
      return true;
    }
    // First use may approve only a tool that never had an approval and has
    // this one definition; anything else needs a person, and no write.
    if (first_use && !server.ever_approved_tools.contains(d.tool)) {
      const auto count = server.definitions_per_tool.find(d.tool);
      if (count == server.definitions_per_tool.end() || count->second <= 1) {
        return true;
      }
    }
  }
  return false;
}

policy::Decision DecideCall(const CachedServerPolicy& server,
                            const v1::CheckToolCallRequest& request) {
  if (server.compiled == nullptr) return policy::NoPolicyDecision();
  policy::Decision decision = server.compiled->Check(
      request.tool(), request.has_arguments() ? &request.arguments() : nullptr);
  if (!decision.allowed || !server.pinned()) return decision;
  const std::string& digest = request.definition_digest();
  if (digest.empty()) {
    return policy::Decision{
        false,
        "the server pins tool definitions and the call names none "
        "(definitionDigest: the guard sends the digest of the definition its "
        "session saw)",
        -1, -1};
  }
  if (!server.IsApproved(request.tool(), digest)) {
    return policy::Decision{
        false,
        absl::StrCat("the tool's definition as the session saw it (",
                     digest.substr(0, 12),
                     ") is not approved: it is new or changed; an ALLOW "
                     "holder can approve it"),
        -1, -1};
  }
  return decision;
}

v1::ToolDefinitionStatus::Approval ApprovalOf(const CachedServerPolicy& server,
                                              const ReportedEntry& entry) {
  if (!server.pinned()) return v1::ToolDefinitionStatus::NOT_REQUIRED;
  const storage::ReportedDefinition& d = entry.definition;
  return entry.pinnable() && server.IsApproved(d.tool, d.digest)
             ? v1::ToolDefinitionStatus::APPROVED
             : v1::ToolDefinitionStatus::PENDING;
}

}  // namespace mcpreg
