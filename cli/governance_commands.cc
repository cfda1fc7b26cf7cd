// Governance commands: policy set|get, check, filter, audit list|verify,
// client-config.
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "mcpreg/v1/registry.grpc.pb.h"

namespace mcpreg::cli {
namespace {

using google::protobuf::util::TimeUtil;
using v1::McpRegistry;

std::unique_ptr<McpRegistry::Stub> Registry(const GlobalOptions& options) {
  return McpRegistry::NewStub(Connect(options));
}

void AddServerFlag(Flags& flags) {
  flags.String("server", "server name or display name (type:repo:name)");
  flags.String("project",
               "project key (default: --project before the "
               "command, or $MCPREG_PROJECT)");
  flags.Bool("json", "print the response as JSON");
}

std::string ProjectOf(const Flags& flags, const GlobalOptions& options) {
  return flags.Get("project").empty() ? options.project : flags.Get("project");
}

bool RequireServer(const GlobalOptions& options, const Flags& flags,
                   int* code) {
  if (!flags.Get("server").empty()) return true;
  *code = UsageError(options.command, "--server is required", flags.Help());
  return false;
}

// `file` ("-": stdin) parsed into `policy`; unknown fields are refused.
bool ReadJsonFile(const std::string& file, v1::ToolPolicy* policy,
                  std::string* error) {
  std::string body;
  if (file == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else if (!ReadFile(file, &body, error)) {
    return false;
  }
  auto parsed = google::protobuf::util::JsonStringToMessage(
      body, policy, google::protobuf::util::JsonParseOptions());
  if (!parsed.ok()) {
    *error = absl::StrCat(
        file, " is not a valid tool policy: ", parsed.message().as_string());
    return false;
  }
  return true;
}

void PrintPolicy(const v1::ToolPolicy& p) {
  std::cout << "server   " << p.display_name() << "\n"
            << "mode     " << v1::ToolPolicy::Mode_Name(p.mode()) << "\n"
            << "updated  " << FormatTime(p.updated_at().seconds()) << " by "
            << p.updated_by() << "\n";
  if (p.pin_definitions()) {
    std::cout << "pinned   tool definitions need approval"
              << (p.trust_on_first_use() ? " (first ones trusted)" : "")
              << "\n";
  }
  if (p.audit_argument_values()) {
    std::cout << "audited  argument values are recorded\n";
  }
  std::vector<std::vector<std::string>> rows = {{"#", "KIND", "PATTERN"}};
  for (int i = 0; i < p.entries_size(); ++i) {
    rows.push_back({absl::StrCat(i), p.entries(i).is_regex() ? "regex" : "name",
                    p.entries(i).pattern()});
  }
  if (p.entries_size() > 0) PrintTable(rows);
}

int PolicySet(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  AddServerFlag(flags);
  flags.String("mode", "allow-all, allow-list or deny-list");
  flags.Repeated("tool", "an exact tool name entry");
  flags.Repeated("pattern",
                 "an RE2 pattern entry, matched against the whole "
                 "tool name");
  flags.String("file",
               "the policy as JSON (the REST body: mode, entries with "
               "conditions, pinDefinitions, ...); flags given too override "
               "its mode and add entries");
  flags.Bool("pin-definitions",
             "tools are usable only with an approved definition");
  flags.Bool("trust-on-first-use",
             "with --pin-definitions: approve each tool's first definition");
  flags.Bool("audit-arguments", "record argument values in the audit log");
  int code;
  if (!ParseFlags(options,
                  "Replaces a server's tool policy. Entries are --tool names "
                  "first, then --pattern patterns, in the order given; the "
                  "first matching entry decides. Argument conditions are "
                  "given in a --file.",
                  flags, args, &code) ||
      !RequireServer(options, flags, &code)) {
    return code;
  }
  v1::SetToolPolicyRequest request;
  v1::ToolPolicy* p = request.mutable_policy();
  if (!flags.Get("file").empty()) {
    std::string error;
    if (!ReadJsonFile(flags.Get("file"), p, &error)) {
      return UsageError(options.command, error, flags.Help());
    }
  }
  if (flags.Has("pin-definitions")) p->set_pin_definitions(true);
  if (flags.Has("trust-on-first-use")) p->set_trust_on_first_use(true);
  if (flags.Has("audit-arguments")) p->set_audit_argument_values(true);
  const std::string& mode = flags.Get("mode");
  if (mode.empty() && p->mode() != v1::ToolPolicy::MODE_UNSPECIFIED) {
    // the file's
  } else if (mode == "allow-all") {
    p->set_mode(v1::ToolPolicy::ALLOW_ALL);
  } else if (mode == "allow-list") {
    p->set_mode(v1::ToolPolicy::ALLOW_LIST);
  } else if (mode == "deny-list") {
    p->set_mode(v1::ToolPolicy::DENY_LIST);
  } else {
    return UsageError(options.command,
                      "--mode must be allow-all, allow-list or deny-list",
                      flags.Help());
  }
  p->set_project_key(ProjectOf(flags, options));
  p->set_server(flags.Get("server"));
  for (const std::string& t : flags.All("tool")) {
    p->add_entries()->set_pattern(t);
  }
  for (const std::string& t : flags.All("pattern")) {
    auto* e = p->add_entries();
    e->set_pattern(t);
    e->set_is_regex(true);
  }
  v1::ToolPolicy stored;
  grpc::Status status = Registry(options)->SetToolPolicy(
      CallContext(options).get(), request, &stored);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(stored);
  } else {
    PrintPolicy(stored);
  }
  return kOk;
}

int PolicyGet(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  AddServerFlag(flags);
  int code;
  if (!ParseFlags(options, "Shows a server's tool policy.", flags, args,
                  &code) ||
      !RequireServer(options, flags, &code)) {
    return code;
  }
  v1::GetToolPolicyRequest request;
  request.set_project_key(ProjectOf(flags, options));
  request.set_server(flags.Get("server"));
  v1::ToolPolicy policy;
  grpc::Status status = Registry(options)->GetToolPolicy(
      CallContext(options).get(), request, &policy);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(policy);
  } else {
    PrintPolicy(policy);
  }
  return kOk;
}

int Check(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  AddServerFlag(flags);
  flags.String("tool", "the tool the agent wants to call");
  flags.String("arguments", "the call's arguments, a JSON object");
  flags.String("digest",
               "the digest of the tool's definition (for a pinned server)");
  int code;
  if (!ParseFlags(options,
                  "Asks whether a tool call is allowed (exit 0) or not "
                  "(exit 6). The check is audited.",
                  flags, args, &code) ||
      !RequireServer(options, flags, &code)) {
    return code;
  }
  if (flags.Get("tool").empty()) {
    return UsageError(options.command, "--tool is required", flags.Help());
  }
  v1::CheckToolCallRequest request;
  request.set_project_key(ProjectOf(flags, options));
  request.set_server(flags.Get("server"));
  request.set_tool(flags.Get("tool"));
  request.set_definition_digest(flags.Get("digest"));
  if (!flags.Get("arguments").empty() &&
      !google::protobuf::util::JsonStringToMessage(flags.Get("arguments"),
                                                   request.mutable_arguments())
           .ok()) {
    return UsageError(options.command, "--arguments must be a JSON object",
                      flags.Help());
  }
  v1::CheckToolCallResponse response;
  grpc::Status status = Registry(options)->CheckToolCall(
      CallContext(options).get(), request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(response);
  } else {
    std::cout << (response.allowed() ? "ALLOW " : "DENY ") << request.tool()
              << ": " << response.reason() << "\n";
  }
  return response.allowed() ? kOk : kDenied;
}

int Filter(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  AddServerFlag(flags);
  flags.Repeated("tool", "a tool of the server");
  int code;
  if (!ParseFlags(options,
                  "Prints the allowed subset of the given tools, one per "
                  "line.",
                  flags, args, &code) ||
      !RequireServer(options, flags, &code)) {
    return code;
  }
  v1::FilterToolsRequest request;
  request.set_project_key(ProjectOf(flags, options));
  request.set_server(flags.Get("server"));
  for (const std::string& t : flags.All("tool")) request.add_tools(t);
  v1::FilterToolsResponse response;
  grpc::Status status = Registry(options)->FilterTools(
      CallContext(options).get(), request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(response);
  } else {
    for (const std::string& t : response.allowed_tools())
      std::cout << t << "\n";
  }
  return kOk;
}

bool ParseTime(const std::string& text, google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return false;
  *out = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
  return true;
}

int AuditList(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.String("project",
               "project key (default: --project before the "
               "command, or $MCPREG_PROJECT)");
  flags.String("since", "from this time (RFC 3339, e.g. 2026-11-25T00:00:00Z)");
  flags.String("until", "before this time (RFC 3339)");
  flags.String("actor", "only this principal");
  flags.String("server", "only this server (display name)");
  flags.String("tool", "only this tool");
  flags.String("action", "only this action (register, tool.check, ...)");
  flags.String("decision", "ALLOW, DENY or ERROR");
  flags.String("page-size", "events per page (default 100, at most 1000)");
  flags.String("page-token", "continue from a previous page");
  flags.Bool("json", "print the response as JSON");
  int code;
  if (!ParseFlags(options, "Lists a project's audit events, newest first.",
                  flags, args, &code)) {
    return code;
  }
  v1::ListAuditEventsRequest request;
  request.set_project_key(ProjectOf(flags, options));
  for (const char* which : {"since", "until"}) {
    if (flags.Get(which).empty()) continue;
    auto* ts = std::string(which) == "since" ? request.mutable_since()
                                             : request.mutable_until();
    if (!ParseTime(flags.Get(which), ts)) {
      return UsageError(options.command,
                        absl::StrCat("--", which,
                                     " must be an RFC 3339 time such as "
                                     "2026-11-25T10:00:00Z"),
                        flags.Help());
    }
  }
  request.set_actor(flags.Get("actor"));
  request.set_server(flags.Get("server"));
  request.set_tool(flags.Get("tool"));
  request.set_action(flags.Get("action"));
  request.set_decision(flags.Get("decision"));
  request.set_page_token(flags.Get("page-token"));
  if (!flags.Get("page-size").empty()) {
    request.set_page_size(
        static_cast<uint32_t>(std::atoi(flags.Get("page-size").c_str())));
  }
  v1::ListAuditEventsResponse response;
  grpc::Status status = Registry(options)->ListAuditEvents(
      CallContext(options).get(), request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(response);
    return kOk;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "TIME", "ACTOR",
                                                 "ACTION", "SERVER", "TOOL",
                                                 "DECISION", "REASON"}};
  for (const v1::AuditEvent& e : response.events()) {
    rows.push_back({absl::StrCat(e.id()), FormatTime(e.at().seconds()),
                    e.actor(), e.action(), e.server(), e.tool(), e.decision(),
                    e.reason()});
  }
  PrintTable(rows);
  if (!response.next_page_token().empty()) {
    std::cout << "more: --page-token " << response.next_page_token() << "\n";
  }
  return kOk;
}

int AuditVerify(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.Bool("json", "print the response as JSON");
  int code;
  if (!ParseFlags(options,
                  "Recomputes the audit log's hash chain (ADMIN). Exit 0 when "
                  "intact, 1 when broken.",
                  flags, args, &code)) {
    return code;
  }
  v1::VerifyAuditLogResponse response;
  grpc::Status status = Registry(options)->VerifyAuditLog(
      CallContext(options).get(), v1::VerifyAuditLogRequest(), &response);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(response);
  } else if (response.intact()) {
    std::cout << "intact: " << response.rows_checked() << " rows checked\n";
  } else {
    std::cout << "BROKEN at row " << response.first_broken_id() << ": "
              << response.problem() << "\n";
  }
  return response.intact() ? kOk : kRefused;
}

int ClientConfig(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  AddServerFlag(flags);
  flags.String("client", "cursor, vscode or claude-code");
  flags.String("version", "a registered version (default: the latest)");
  flags.String("launcher",
               "guard (default: `mcpreg guard` enforces the tool policy) or "
               "direct (npx/uvx, no enforcement; needs packageBaseUrl)");
  int code;
  if (!ParseFlags(options,
                  "Prints the configuration entry that runs the server from "
                  "an IDE or agent.",
                  flags, args, &code) ||
      !RequireServer(options, flags, &code)) {
    return code;
  }
  v1::GetClientConfigRequest request;
  request.set_project_key(ProjectOf(flags, options));
  request.set_server(flags.Get("server"));
  request.set_client(flags.Get("client"));
  request.set_version(flags.Get("version"));
  request.set_launcher(flags.Get("launcher"));
  v1::ClientConfig config;
  grpc::Status status = Registry(options)->GetClientConfig(
      CallContext(options).get(), request, &config);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(config);
    return kOk;
  }
  std::cout << "# merge into " << config.file_hint() << "\n"
            << config.config_json() << "\n";
  if (!config.command_line().empty()) {
    std::cout << "# or run\n" << config.command_line() << "\n";
  }
  return kOk;
}

}  // namespace

std::vector<Command> GovernanceCommands() {
  return {
      {"policy set", "replace a server's tool policy", PolicySet},
      {"policy get", "show a server's tool policy", PolicyGet},
      {"check", "may this tool be called? (exit 0 yes, 6 no)", Check},
      {"filter", "the allowed subset of a server's tools", Filter},
      {"audit list", "a project's audit events", AuditList},
      {"audit verify", "verify the audit log's hash chain", AuditVerify},
      {"client-config", "configuration for Cursor, VS Code, Claude Code",
       ClientConfig},
  };
}

}  // namespace mcpreg::cli
