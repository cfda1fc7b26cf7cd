// Commands for everyone: info, health, register, unregister, get, list.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "plugin/src/validation/runtime_argument.h"

namespace mcpreg::cli {
namespace {

using v1::McpRegistry;

// Output flag shared by every command that prints a response.
void AddOutputFlag(Flags& flags) {
  flags.Bool("json", "print the response as JSON (protobuf JSON mapping)");
}

int Info(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  AddOutputFlag(flags);
  int code;
  if (!ParseFlags(options, "Shows the plugin the server runs.", flags, args,
                  &code)) {
    return code;
  }
  v1::PluginInfo info;
  grpc::Status status = McpRegistry::NewStub(Connect(options))
                            ->GetPluginInfo(CallContext(options).get(),
                                            v1::GetPluginInfoRequest(), &info);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(info);
    return kOk;
  }
  std::cout << "plugin      " << info.name() << " " << info.version() << "\n"
            << "abi         " << info.abi_major() << "." << info.abi_minor()
            << "\n"
            << "build       " << info.build_type() << ", " << info.compiler()
            << (info.git_revision().empty() ? "" : ", " + info.git_revision())
            << "\n";
  for (const std::string& m : info.methods()) {
    std::cout << "method      " << m << "\n";
  }
  return kOk;
}

int Health(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  AddOutputFlag(flags);
  int code;
  if (!ParseFlags(options, "Asks the server whether it is serving.", flags,
                  args, &code)) {
    return code;
  }
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status =
      grpc::health::v1::Health::NewStub(Connect(options))
          ->Check(CallContext(options).get(),
                  grpc::health::v1::HealthCheckRequest(), &response);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(response);
  } else {
    std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                     response.status())
              << "\n";
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? kOk
             : kRefused;
}

// "NAME" or "NAME:format" → an environment variable entry.
bool AddEnv(const std::string& spec, bool secret, v1::McpServerInfo* info,
            std::string* error) {
  std::vector<std::string> parts =
      absl::StrSplit(spec, absl::MaxSplits(':', 1));
  if (parts[0].empty()) {
    *error = absl::StrCat("--", secret ? "secret-env" : "env",
                          " needs NAME or NAME:FORMAT, got '", spec, "'");
    return false;
  }
  auto* env = info->add_environment_variables();
  env->set_name(parts[0]);
  if (parts.size() > 1) env->set_format(parts[1]);
  env->set_is_required(secret);
  env->set_is_secret(secret);
  return true;
}

// How a client puts the argument on its command line: the default's words,
// or a placeholder for the value the user supplies.
std::string PassedAs(const v1::RuntimeArgument& arg) {
  const std::string value = arg.default_value().empty()
                                ? absl::StrCat("<", EffectiveFormat(arg), ">")
                                : arg.default_value();
  return absl::StrJoin(CommandLineWords(arg, value), " ");
}

void PrintServer(const v1::Server& server) {
  std::cout << "name          " << server.name() << "\n"
            << "display name  " << server.display_name() << "\n"
            << "project       " << server.project_key() << "\n"
            << "repository    " << server.repo_key() << " ("
            << server.package_type() << ")\n"
            << "latest        " << server.latest_version() << " (of "
            << server.version_count() << " version"
            << (server.version_count() == 1 ? "" : "s") << ")\n"
            << "description   " << server.description() << "\n"
            << "created       " << FormatTime(server.created_at().seconds())
            << " by " << server.created_by() << "\n";
  for (const v1::ServerVersion& v : server.versions()) {
    std::cout << "\nversion " << v.version() << "  " << v.artifact().repo_path()
              << "  sha256 " << v.artifact_sha256().substr(0, 12) << "  "
              << FormatTime(v.created_at().seconds()) << " by "
              << v.created_by() << "\n";
    if (v.environment_variables_size() > 0) {
      std::vector<std::vector<std::string>> rows = {
          {"  ENV", "FORMAT", "REQUIRED", "SECRET", "DESCRIPTION"}};
      for (const auto& e : v.environment_variables()) {
        rows.push_back({"  " + e.name(), e.format(),
                        e.is_required() ? "yes" : "no",
                        e.is_secret() ? "yes" : "no", e.description()});
      }
      PrintTable(rows);
    }
    if (v.runtime_arguments_size() > 0) {
      std::vector<std::vector<std::string>> rows = {
          {"  ARGUMENT", "TYPE", "FORMAT", "DEFAULT", "PASSED AS",
           "DESCRIPTION"}};
      for (const auto& a : v.runtime_arguments()) {
        rows.push_back({"  " + a.name(), a.type(), a.format(),
                        a.default_value(), PassedAs(a), a.description()});
      }
      PrintTable(rows);
    }
    if (!v.readme().empty()) std::cout << "\n" << v.readme() << "\n";
  }
}

int Register(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.String("json",
               "request body FILE in the design brief's JSON format "
               "('-' for stdin); flags below override its fields");
  flags.String("project",
               "project key (default: --project before the "
               "command, or $MCPREG_PROJECT)");
  flags.String("repo", "repository key, e.g. ai-pypi-local");
  flags.String("path", "the package's path in the repository");
  flags.String("readme", "README path in the repository (optional)");
  flags.String("description", "what the server does");
  flags.String("version", "the package version, e.g. 1.0.0");
  flags.String("name", "server name (default: the package's own name)");
  flags.Repeated("env", "environment variable NAME or NAME:FORMAT");
  flags.Repeated("secret-env",
                 "required secret environment variable NAME[:FORMAT]");
  flags.Bool("output-json", "print the response as JSON");
  int code;
  if (!ParseFlags(options,
                  "Registers an npm or PyPI package that sits in a local "
                  "repository as a custom MCP server.",
                  flags, args, &code)) {
    return code;
  }
  v1::RegisterCustomServerRequest request;
  if (!flags.Get("json").empty()) {
    std::string body, error;
    const std::string& file = flags.Get("json");
    if (file == "-") {
      body.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else if (!ReadFile(file, &body, &error)) {
      return UsageError(options.command, error, "");
    }
    google::protobuf::util::JsonParseOptions strict;  // unknown fields refused
    auto parsed =
        google::protobuf::util::JsonStringToMessage(body, &request, strict);
    if (!parsed.ok()) {
      return UsageError(options.command,
                        absl::StrCat(file, " is not a valid register body: ",
                                     parsed.message().as_string()),
                        "");
    }
  }
  auto* artifact = request.mutable_repo_artifact_info();
  auto* info = request.mutable_mcp_server_info();
  if (!flags.Get("project").empty()) {
    request.set_project_key(flags.Get("project"));
  } else if (request.project_key().empty()) {
    request.set_project_key(options.project);
  }
  if (!flags.Get("repo").empty()) artifact->set_repo_key(flags.Get("repo"));
  if (!flags.Get("path").empty()) artifact->set_repo_path(flags.Get("path"));
  if (!flags.Get("readme").empty()) {
    artifact->set_readme_path(flags.Get("readme"));
  }
  if (!flags.Get("description").empty()) {
    info->set_description(flags.Get("description"));
  }
  if (!flags.Get("version").empty()) info->set_version(flags.Get("version"));
  if (!flags.Get("name").empty()) request.set_name(flags.Get("name"));
  std::string error;
  for (const std::string& spec : flags.All("env")) {
    if (!AddEnv(spec, false, info, &error)) {
      return UsageError(options.command, error, "");
    }
  }
  for (const std::string& spec : flags.All("secret-env")) {
    if (!AddEnv(spec, true, info, &error)) {
      return UsageError(options.command, error, "");
    }
  }
  v1::RegisterCustomServerResponse response;
  grpc::Status status = McpRegistry::NewStub(Connect(options))
                            ->RegisterCustomServer(CallContext(options).get(),
                                                   request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("output-json")) {
    PrintJson(response);
    return kOk;
  }
  std::cout << (response.created() ? "registered " : "already registered ")
            << response.server().display_name() << " " << response.version()
            << "\n";
  return kOk;
}

// Commands that name one server: --name plus the project.
void AddServerFlags(Flags& flags) {
  flags.String("name", "server name or display name (type:repo:name)");
  flags.String("project",
               "project key (default: --project before the "
               "command, or $MCPREG_PROJECT)");
  AddOutputFlag(flags);
}

std::string ProjectOf(const Flags& flags, const GlobalOptions& options) {
  return flags.Get("project").empty() ? options.project : flags.Get("project");
}

int Unregister(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  AddServerFlags(flags);
  int code;
  if (!ParseFlags(options,
                  "Removes a server: every version and its policies. The "
                  "package stays in its repository.",
                  flags, args, &code)) {
    return code;
  }
  if (flags.Get("name").empty()) {
    return UsageError(options.command, "--name is required", flags.Help());
  }
  v1::UnregisterCustomServerRequest request;
  request.set_project_key(ProjectOf(flags, options));
  request.set_name(flags.Get("name"));
  v1::UnregisterCustomServerResponse response;
  grpc::Status status = McpRegistry::NewStub(Connect(options))
                            ->UnregisterCustomServer(CallContext(options).get(),
                                                     request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (options.json || flags.Has("json")) {
    PrintJson(response);
    return kOk;
  }
  std::cout << "unregistered " << response.display_name() << " ("
            << response.versions_removed() << " version"
            << (response.versions_removed() == 1 ? "" : "s") << ")\n";
  return kOk;
}

int Get(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  AddServerFlags(flags);
  flags.String("page-size",
               "versions per page (default 20, at most 200); the latest "
               "comes first");
  flags.String("page-token", "continue from a previous page of versions");
  flags.Bool("all", "fetch every version, page by page");
  int code;
  if (!ParseFlags(options,
                  "Shows one server: its latest version with the README, "
                  "then older versions, environment variables and runtime "
                  "arguments.",
                  flags, args, &code)) {
    return code;
  }
  if (flags.Get("name").empty()) {
    return UsageError(options.command, "--name is required", flags.Help());
  }
  v1::GetServerRequest request;
  request.set_project_key(ProjectOf(flags, options));
  request.set_name(flags.Get("name"));
  if (!flags.Get("page-size").empty()) {
    int size = std::atoi(flags.Get("page-size").c_str());
    if (size <= 0) {
      return UsageError(options.command,
                        "--page-size must be a positive number", flags.Help());
    }
    request.set_page_size(static_cast<uint32_t>(size));
  }
  request.set_page_token(flags.Get("page-token"));
  v1::Server server;
  for (;;) {
    v1::Server page;
    grpc::Status status =
        McpRegistry::NewStub(Connect(options))
            ->GetServer(CallContext(options).get(), request, &page);
    if (!status.ok()) return ReportError(status, options);
    if (server.name().empty()) {
      server = std::move(page);
    } else {
      for (auto& v : *page.mutable_versions()) {
        *server.add_versions() = std::move(v);
      }
      server.set_versions_next_page_token(page.versions_next_page_token());
    }
    if (!flags.Has("all") || server.versions_next_page_token().empty()) break;
    request.set_page_token(server.versions_next_page_token());
  }
  if (options.json || flags.Has("json")) {
    PrintJson(server);
  } else {
    PrintServer(server);
    if (!server.versions_next_page_token().empty()) {
      std::cout << "\nmore versions: --page-token "
                << server.versions_next_page_token() << " (or --all)\n";
    }
  }
  return kOk;
}

int List(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.String("project",
               "project key (default: --project before the "
               "command, or $MCPREG_PROJECT)");
  flags.String("page-size", "servers per page (default 50, at most 500)");
  flags.String("page-token", "continue from a previous page");
  flags.Bool("all", "fetch every page");
  flags.String("search",
               "only servers whose name or description contains "
               "this (case-insensitive)");
  AddOutputFlag(flags);
  int code;
  if (!ParseFlags(options,
                  "Lists the servers of a project whose repository you can "
                  "read.",
                  flags, args, &code)) {
    return code;
  }
  v1::ListServersRequest request;
  request.set_project_key(ProjectOf(flags, options));
  if (!flags.Get("page-size").empty()) {
    int size = std::atoi(flags.Get("page-size").c_str());
    if (size <= 0) {
      return UsageError(options.command,
                        "--page-size must be a positive number", flags.Help());
    }
    request.set_page_size(static_cast<uint32_t>(size));
  }
  request.set_page_token(flags.Get("page-token"));
  request.set_search(flags.Get("search"));
  v1::ListServersResponse all;
  for (;;) {
    v1::ListServersResponse page;
    grpc::Status status =
        McpRegistry::NewStub(Connect(options))
            ->ListServers(CallContext(options).get(), request, &page);
    if (!status.ok()) return ReportError(status, options);
    for (auto& s : *page.mutable_servers()) *all.add_servers() = std::move(s);
    all.set_next_page_token(page.next_page_token());
    if (!flags.Has("all") || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (options.json || flags.Has("json")) {
    PrintJson(all);
    return kOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "DISPLAY NAME", "LATEST", "DESCRIPTION"}};
  for (const v1::Server& s : all.servers()) {
    rows.push_back(
        {s.name(), s.display_name(), s.latest_version(), s.description()});
  }
  PrintTable(rows);
  if (!all.next_page_token().empty()) {
    std::cout << "more: --page-token " << all.next_page_token() << "\n";
  }
  return kOk;
}

}  // namespace

std::vector<Command> ServerCommands() {
  return {
      {"info", "show the plugin the server runs", Info},
      {"health", "ask the server whether it is serving", Health},
      {"register", "register a package as a custom MCP server", Register},
      {"unregister", "remove a server (the package stays)", Unregister},
      {"get", "show one server and its versions", Get},
      {"list", "list the servers you can read in a project", List},
  };
}

}  // namespace mcpreg::cli
