// Pinned tool definitions: definitions list|diff|approve|revoke. A person
// reviews what changed (a line diff of the pretty-printed definitions) and
// approves it; the guard then lets the tool through.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "mcpreg/v1/registry.grpc.pb.h"

namespace mcpreg::cli {
namespace {

using v1::McpRegistry;

// Past this many lines a side, the diff prints both definitions whole.
constexpr size_t kMaxDiffLines = 2000;

void AddTargetFlags(Flags& flags) {
  flags.String("server", "server name or display name (type:repo:name)");
  flags.String("project",
               "project key (default: --project before the command, or "
               "$MCPREG_PROJECT)");
  flags.Bool("json", "print the response as JSON");
}

bool ParseTarget(GlobalOptions& options, const std::string& about, Flags& flags,
                 const std::vector<std::string>& args, int* code) {
  if (!ParseFlags(options, about, flags, args, code)) return false;
  if (flags.Get("server").empty()) {
    *code = UsageError(options.command, "--server is required", flags.Help());
    return false;
  }
  return true;
}

std::string ProjectOf(const Flags& flags, const GlobalOptions& options) {
  return flags.Get("project").empty() ? options.project : flags.Get("project");
}

absl::StatusOr<v1::ListToolDefinitionsResponse> ListDefinitions(
    const GlobalOptions& options, const Flags& flags, grpc::Status* error) {
  v1::ListToolDefinitionsRequest request;
  request.set_project_key(ProjectOf(flags, options));
  request.set_server(flags.Get("server"));
  v1::ListToolDefinitionsResponse response;
  *error =
      McpRegistry::NewStub(Connect(options))
          ->ListToolDefinitions(CallContext(options).get(), request, &response);
  if (!error->ok()) return absl::UnknownError("");
  return response;
}

std::string State(const v1::ToolDefinitionRecord& r, bool pinned) {
  if (r.approved()) return absl::StrCat("approved by ", r.approved_by());
  return pinned ? "PENDING" : "not approved";
}

std::vector<std::string> PrettyLines(const std::string& canonical) {
  nlohmann::json parsed =
      nlohmann::json::parse(canonical, nullptr, /*allow_exceptions=*/false);
  const std::string text = parsed.is_discarded() ? canonical : parsed.dump(2);
  return absl::StrSplit(text, '\n');
}

// A line diff (longest common subsequence): "- " old, "+ " new, "  " both.
void PrintDiff(const std::vector<std::string>& before,
               const std::vector<std::string>& after) {
  if (before.size() > kMaxDiffLines || after.size() > kMaxDiffLines) {
    for (const auto& l : before) std::cout << "- " << l << "\n";
    for (const auto& l : after) std::cout << "+ " << l << "\n";
    return;
  }
  const size_t n = before.size(), m = after.size();
  std::vector<std::vector<uint16_t>> common(n + 1,
                                            std::vector<uint16_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      common[i][j] = before[i] == after[j]
                         ? common[i + 1][j + 1] + 1
                         : std::max(common[i + 1][j], common[i][j + 1]);
    }
  }
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] == after[j]) {
      std::cout << "  " << before[i++] << "\n";
      ++j;
    } else if (j < m && (i == n || common[i][j + 1] >= common[i + 1][j])) {
      std::cout << "+ " << after[j++] << "\n";
    } else {
      std::cout << "- " << before[i++] << "\n";
    }
  }
}

int DefinitionsList(GlobalOptions& options,
                    const std::vector<std::string>& args) {
  Flags flags;
  AddTargetFlags(flags);
  int code;
  if (!ParseTarget(options,
                   "Lists the tool definitions guards reported for a server, "
                   "newest first per tool, with their approval.",
                   flags, args, &code)) {
    return code;
  }
  grpc::Status error;
  auto listed = ListDefinitions(options, flags, &error);
  if (!listed.ok()) return ReportError(error, options);
  if (options.json || flags.Has("json")) {
    PrintJson(*listed);
    return kOk;
  }
  std::cout << "server  " << listed->display_name() << " (definitions "
            << (listed->pin_definitions() ? "pinned" : "not pinned") << ")\n";
  std::vector<std::vector<std::string>> rows = {
      {"TOOL", "DIGEST", "FIRST VERSION", "FIRST SEEN", "STATE"}};
  for (const v1::ToolDefinitionRecord& r : listed->definitions()) {
    rows.push_back({r.tool(), r.digest().substr(0, 12), r.first_version(),
                    FormatTime(r.first_seen_at().seconds()),
                    State(r, listed->pin_definitions())});
  }
  PrintTable(rows);
  return kOk;
}

int DefinitionsDiff(GlobalOptions& options,
                    const std::vector<std::string>& args) {
  Flags flags;
  AddTargetFlags(flags);
  flags.String("tool", "the tool");
  flags.String("digest",
               "the definition to compare with the one before it (default: "
               "the tool's newest; a prefix is enough)");
  int code;
  if (!ParseTarget(options,
                   "Shows how a tool's definition differs from the one "
                   "before it, line by line.",
                   flags, args, &code)) {
    return code;
  }
  if (flags.Get("tool").empty()) {
    return UsageError(options.command, "--tool is required", flags.Help());
  }
  grpc::Status error;
  auto listed = ListDefinitions(options, flags, &error);
  if (!listed.ok()) return ReportError(error, options);
  const v1::ToolDefinitionRecord* chosen = nullptr;
  const v1::ToolDefinitionRecord* previous = nullptr;
  for (const v1::ToolDefinitionRecord& r : listed->definitions()) {
    if (r.tool() != flags.Get("tool")) continue;
    if (chosen == nullptr && r.digest().rfind(flags.Get("digest"), 0) == 0) {
      chosen = &r;
    }
  }
  if (chosen == nullptr) {
    std::cerr << "mcpreg: no reported definition of tool '" << flags.Get("tool")
              << "' matches\n";
    return kNotFound;
  }
  for (const v1::ToolDefinitionRecord& r : listed->definitions()) {
    if (r.tool() == chosen->tool() && r.digest() == chosen->previous_digest()) {
      previous = &r;
    }
  }
  std::cout << "tool " << chosen->tool() << ": "
            << (previous == nullptr ? "(first definition)"
                                    : previous->digest().substr(0, 12))
            << " -> " << chosen->digest().substr(0, 12) << " ("
            << State(*chosen, listed->pin_definitions()) << ")\n";
  PrintDiff(previous == nullptr ? std::vector<std::string>()
                                : PrettyLines(previous->definition_json()),
            PrettyLines(chosen->definition_json()));
  return kOk;
}

int SetApproval(GlobalOptions& options, const std::vector<std::string>& args,
                bool approve) {
  Flags flags;
  AddTargetFlags(flags);
  flags.Repeated("definition",
                 "TOOL=DIGEST: a definition (full digest, as `definitions "
                 "list --json` shows it)");
  flags.String("version",
               "every definition this server version reported (the tools "
               "it has now; tools added later wait for their own approval)");
  int code;
  if (!ParseTarget(options,
                   approve ? "Approves tool definitions of a server whose "
                             "policy pins them."
                           : "Withdraws approvals of tool definitions.",
                   flags, args, &code)) {
    return code;
  }
  v1::ApproveToolDefinitionsRequest request;
  request.set_project_key(ProjectOf(flags, options));
  request.set_server(flags.Get("server"));
  request.set_version(flags.Get("version"));
  for (const std::string& d : flags.All("definition")) {
    std::pair<std::string, std::string> parts =
        absl::StrSplit(d, absl::MaxSplits('=', 1));
    if (parts.first.empty() || parts.second.empty()) {
      return UsageError(options.command,
                        "--definition takes TOOL=DIGEST, got '" + d + "'",
                        flags.Help());
    }
    v1::ToolDefinitionRef* ref = request.add_definitions();
    ref->set_tool(parts.first);
    ref->set_digest(parts.second);
  }
  v1::ApproveToolDefinitionsResponse response;
  auto stub = McpRegistry::NewStub(Connect(options));
  grpc::Status status =
      approve ? stub->ApproveToolDefinitions(CallContext(options).get(),
                                             request, &response)
              : stub->RevokeToolDefinitions(CallContext(options).get(), request,
                                            &response);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(response);
    return kOk;
  }
  if (response.definitions_size() == 0) {
    std::cout << "nothing changed: already "
              << (approve ? "approved" : "not approved") << "\n";
  }
  for (const v1::ToolDefinitionRecord& r : response.definitions()) {
    std::cout << (approve ? "approved " : "revoked ") << r.tool() << " "
              << r.digest().substr(0, 12) << "\n";
  }
  return kOk;
}

int DefinitionsApprove(GlobalOptions& options,
                       const std::vector<std::string>& args) {
  return SetApproval(options, args, /*approve=*/true);
}

int DefinitionsRevoke(GlobalOptions& options,
                      const std::vector<std::string>& args) {
  return SetApproval(options, args, /*approve=*/false);
}

}  // namespace

std::vector<Command> DefinitionCommands() {
  return {
      {"definitions list", "a server's reported tool definitions",
       DefinitionsList},
      {"definitions diff", "how a tool's definition changed", DefinitionsDiff},
      {"definitions approve", "approve pinned tool definitions",
       DefinitionsApprove},
      {"definitions revoke", "withdraw tool-definition approvals",
       DefinitionsRevoke},
  };
}

}  // namespace mcpreg::cli
