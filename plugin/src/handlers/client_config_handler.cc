// GetClientConfig: the entry a developer pastes into Cursor, VS Code or
// Claude Code to run a registered server, pinned to its version. By default
// the IDE runs `mcpreg guard`, which fetches and verifies the package and
// enforces the tool policy on every call (docs/guard.md); the direct npx/uvx
// entry only when an operator configured a package URL that serves the
// repository. Environment variables appear only as placeholders the client
// fills in at run time: the registry has no values and never will.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/governance_handlers.h"
#include "plugin/src/handlers/server_access.h"
#include "plugin/src/validation/register_validation.h"
#include "plugin/src/validation/runtime_argument.h"

namespace mcpreg {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

struct Launch {
  std::string command;
  std::vector<std::string> args;
};

// The guard, which runs the registered package under the registry's policy;
// it passes the registered arguments itself.
Launch GuardCommand(const RegistryDependencies& deps, const v1::Server& server,
                    const v1::ServerVersion& version) {
  return {deps.guard_command,
          {"guard", "--project", server.project_key(), "--server",
           server.display_name(), "--version", version.version()}};
}

// The guard's own environment: where the registry is and how to trust it.
std::vector<std::pair<std::string, std::string>> GuardSettings(
    const RegistryDependencies& deps) {
  std::vector<std::pair<std::string, std::string>> settings = {
      {"MCPREG_ADDR", deps.registry_address}};
  if (!deps.registry_ca_file.empty()) {
    settings.emplace_back("MCPREG_CA_FILE", deps.registry_ca_file);
  } else if (deps.registry_tls) {
    settings.emplace_back("MCPREG_TLS", "1");
  }
  return settings;
}

// npx for npm, uvx for PyPI, installing from the server's own repository.
Launch DirectCommand(const std::string& base_url, const v1::Server& server,
                     const v1::ServerVersion& version) {
  Launch l;
  if (server.package_type() == "npm") {
    l.command = "npx";
    l.args = {"-y", "--registry",
              absl::StrCat(base_url, "/api/npm/", server.repo_key(), "/"),
              absl::StrCat(server.name(), "@", version.version())};
  } else {
    l.command = "uvx";
    l.args = {
        "--index-url",
        absl::StrCat(base_url, "/api/pypi/", server.repo_key(), "/simple"),
        "--from", absl::StrCat(server.name(), "==", version.version()),
        server.name()};
  }
  // Arguments with a default are passed with it; the others are left for the
  // user to add.
  for (const v1::RuntimeArgument& a : version.runtime_arguments()) {
    if (a.default_value().empty()) continue;
    for (std::string& word : CommandLineWords(a, a.default_value())) {
      l.args.push_back(std::move(word));
    }
  }
  return l;
}

// "@acme/tool" -> "tool": the key clients show.
std::string EntryKey(const std::string& name) {
  const size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

Value StringValue(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}

Value ListOf(const std::vector<std::string>& items) {
  Value v;
  for (const std::string& s : items) {
    *v.mutable_list_value()->add_values() = StringValue(s);
  }
  return v;
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string ToJson(const Struct& s) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(s, &json, options);
  return json;
}

}  // namespace

absl::StatusOr<v1::ClientConfig> HandleGetClientConfig(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::GetClientConfigRequest& request) {
  CallScope scope(deps, ctx, "client-config");
  const std::string& client = request.client();
  if (client != "cursor" && client != "vscode" && client != "claude-code") {
    return absl::InvalidArgumentError(
        "client: must be cursor, vscode or claude-code");
  }
  absl::StatusOr<ServerAccess> access =
      OpenServerForCaller(deps, scope, request.project_key(), request.server(),
                          "projectKey", "server", authz::Permission::kRead);
  if (!access.ok()) return access.status();
  if (!request.version().empty()) {
    if (absl::Status s = ValidateVersion(request.version(), "version");
        !s.ok()) {
      return s;
    }
  }
  if (!request.launcher().empty() && request.launcher() != "guard" &&
      request.launcher() != "direct") {
    return absl::InvalidArgumentError(
        "launcher: must be guard (the default) or direct");
  }
  if (request.launcher() == "direct" && deps.package_base_url.empty()) {
    return absl::FailedPreconditionError(
        "launcher: direct needs packageBaseUrl, the URL of an artifact "
        "platform that serves the repository to npm and pip; none is "
        "configured, so only the guard can run this server");
  }
  // The one version the entry pins, read by key: the server's history does
  // not enter into it.
  absl::StatusOr<v1::Server> server = deps.servers->GetVersion(
      access->project_key, access->server->server.display_name,
      request.version(), scope.deadline());
  if (!server.ok()) return server.status();
  const v1::ServerVersion* version = &server->versions(0);

  const bool guard = request.launcher() != "direct";
  const Launch launch =
      guard ? GuardCommand(deps, *server, *version)
            : DirectCommand(deps.package_base_url, *server, *version);
  const std::string key = EntryKey(server->name());
  Struct entry;
  auto& fields = *entry.mutable_fields();
  if (client == "vscode") fields["type"] = StringValue("stdio");
  fields["command"] = StringValue(launch.command);
  fields["args"] = ListOf(launch.args);
  Struct env;
  Value inputs;
  inputs.mutable_list_value();
  std::vector<std::string> env_flags;
  // The guard's own settings first: where the registry is, and the
  // developer's token (a secret: a placeholder, like the server's).
  std::vector<v1::EnvironmentVariable> variables;
  if (guard) {
    v1::EnvironmentVariable token;
    token.set_name("MCPREG_TOKEN");
    token.set_description("your mcpreg access token");
    token.set_is_secret(true);
    variables.push_back(token);
  }
  variables.insert(variables.end(), version->environment_variables().begin(),
                   version->environment_variables().end());
  if (guard) {
    for (const auto& [name, value] : GuardSettings(deps)) {
      (*env.mutable_fields())[name] = StringValue(value);
      if (client == "claude-code") {
        env_flags.push_back(
            absl::StrCat("-e ", ShellQuote(absl::StrCat(name, "=", value))));
      }
    }
  }
  for (const v1::EnvironmentVariable& e : variables) {
    std::string placeholder;
    if (client == "cursor") {
      placeholder = absl::StrCat("${env:", e.name(), "}");
    } else if (client == "vscode") {
      placeholder = absl::StrCat("${input:", e.name(), "}");
      Struct input;
      (*input.mutable_fields())["type"] = StringValue("promptString");
      (*input.mutable_fields())["id"] = StringValue(e.name());
      (*input.mutable_fields())["description"] =
          StringValue(e.description().empty() ? e.name() : e.description());
      (*input.mutable_fields())["password"].set_bool_value(e.is_secret());
      *inputs.mutable_list_value()->add_values()->mutable_struct_value() =
          input;
    } else {
      placeholder = absl::StrCat("${", e.name(), "}");
      env_flags.push_back(absl::StrCat(
          "-e ", ShellQuote(absl::StrCat(e.name(), "=", placeholder))));
    }
    (*env.mutable_fields())[e.name()] = StringValue(placeholder);
  }
  if (!env.fields().empty()) *fields["env"].mutable_struct_value() = env;

  Struct file;
  v1::ClientConfig config;
  if (client == "vscode") {
    *(*file.mutable_fields())["servers"]
         .mutable_struct_value()
         ->mutable_fields()
         ->
         operator[](key)
         .mutable_struct_value() = entry;
    if (inputs.list_value().values_size() > 0) {
      (*file.mutable_fields())["inputs"] = inputs;
    }
    config.set_file_hint(".vscode/mcp.json");
  } else {
    *(*file.mutable_fields())["mcpServers"]
         .mutable_struct_value()
         ->mutable_fields()
         ->
         operator[](key)
         .mutable_struct_value() = entry;
    config.set_file_hint(client == "cursor" ? ".cursor/mcp.json" : ".mcp.json");
  }
  if (client == "claude-code") {
    std::vector<std::string> words = {"claude",  "mcp",     "add",
                                      "--scope", "project", ShellQuote(key)};
    for (std::string& f : env_flags) words.push_back(std::move(f));
    words.push_back("--");
    words.push_back(launch.command);
    for (const std::string& a : launch.args) words.push_back(ShellQuote(a));
    config.set_command_line(absl::StrJoin(words, " "));
  }
  config.set_client(client);
  config.set_display_name(server->display_name());
  config.set_version(version->version());
  config.set_config_json(ToJson(file));
  return config;
}

}  // namespace mcpreg
