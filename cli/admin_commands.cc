// Operator commands: repositories, access tokens and grants. All need a
// token whose principal holds the ADMIN role.
#include <iostream>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "mcpreg/v1/admin.grpc.pb.h"

namespace mcpreg::cli {
namespace {

using v1::McpRegistryAdmin;

std::unique_ptr<McpRegistryAdmin::Stub> Admin(const GlobalOptions& options) {
  return McpRegistryAdmin::NewStub(Connect(options));
}

bool WantsJson(const GlobalOptions& options, const Flags& flags) {
  return options.json || flags.Has("json");
}

int RepoCreate(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.String("key", "repository key, e.g. ai-pypi-local");
  flags.String("type", "package type: npm, pypi, docker, ...");
  flags.String("class", "local (default), remote or virtual");
  flags.String("project", "project the repository is assigned to");
  flags.Bool("anonymous-read",
             "let the npm and PyPI endpoints serve it without a token");
  flags.Bool("json", "print the response as JSON");
  int code;
  if (!ParseFlags(options,
                  "Creates a repository (a folder under the "
                  "registry's storage root).",
                  flags, args, &code)) {
    return code;
  }
  if (flags.Get("key").empty() || flags.Get("type").empty()) {
    return UsageError(options.command, "--key and --type are required",
                      flags.Help());
  }
  v1::CreateRepositoryRequest request;
  auto* repo = request.mutable_repository();
  repo->set_key(flags.Get("key"));
  repo->set_package_type(flags.Get("type"));
  repo->set_repo_class(flags.Get("class").empty() ? "local"
                                                  : flags.Get("class"));
  repo->set_project_key(flags.Get("project"));
  repo->set_anonymous_read(flags.Has("anonymous-read"));
  v1::Repository created;
  grpc::Status status = Admin(options)->CreateRepository(
      CallContext(options).get(), request, &created);
  if (!status.ok()) return ReportError(status, options);
  if (WantsJson(options, flags)) {
    PrintJson(created);
  } else {
    std::cout << "created " << created.repo_class() << " "
              << created.package_type() << " repository " << created.key()
              << (created.project_key().empty()
                      ? ""
                      : " in project " + created.project_key())
              << "\n";
  }
  return kOk;
}

int RepoList(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.Bool("json", "print the response as JSON");
  int code;
  if (!ParseFlags(options, "Lists the repositories.", flags, args, &code)) {
    return code;
  }
  v1::ListRepositoriesResponse response;
  grpc::Status status = Admin(options)->ListRepositories(
      CallContext(options).get(), v1::ListRepositoriesRequest(), &response);
  if (!status.ok()) return ReportError(status, options);
  if (WantsJson(options, flags)) {
    PrintJson(response);
    return kOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"KEY", "TYPE", "CLASS", "PROJECT"}};
  for (const auto& r : response.repositories()) {
    rows.push_back(
        {r.key(), r.package_type(), r.repo_class(), r.project_key()});
  }
  PrintTable(rows);
  return kOk;
}

int TokenCreate(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.String("principal", "who the token identifies (created if new)");
  flags.String("description", "what the token is for");
  flags.String("expires-in-days", "lifetime in days (default: never expires)");
  flags.Bool("json", "print the response as JSON");
  int code;
  if (!ParseFlags(options,
                  "Creates an access token. It is printed once and never "
                  "stored: keep it.",
                  flags, args, &code)) {
    return code;
  }
  if (flags.Get("principal").empty()) {
    return UsageError(options.command, "--principal is required", flags.Help());
  }
  v1::CreateTokenRequest request;
  request.set_principal(flags.Get("principal"));
  request.set_description(flags.Get("description"));
  if (!flags.Get("expires-in-days").empty()) {
    uint32_t days = 0;
    if (!absl::SimpleAtoi(flags.Get("expires-in-days"), &days) || days == 0) {
      return UsageError(options.command,
                        "--expires-in-days must be a positive whole number",
                        flags.Help());
    }
    request.set_expires_in_days(days);
  }
  v1::CreateTokenResponse response;
  grpc::Status status = Admin(options)->CreateToken(CallContext(options).get(),
                                                    request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (WantsJson(options, flags)) {
    PrintJson(response);
    return kOk;
  }
  std::cout << response.token() << "\n";
  std::cerr << "token " << response.info().id() << " for '"
            << response.info().principal()
            << "' created; it is shown only now.\n";
  return kOk;
}

int TokenRevoke(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.String("id", "the token's id (from `mcpreg admin token list`)");
  flags.Bool("json", "print the response as JSON");
  int code;
  if (!ParseFlags(options, "Revokes an access token at once.", flags, args,
                  &code)) {
    return code;
  }
  int64_t id = 0;
  if (!absl::SimpleAtoi(flags.Get("id"), &id) || id <= 0) {
    return UsageError(options.command, "--id must be a token id", flags.Help());
  }
  v1::RevokeTokenRequest request;
  request.set_id(id);
  v1::RevokeTokenResponse response;
  grpc::Status status = Admin(options)->RevokeToken(CallContext(options).get(),
                                                    request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (WantsJson(options, flags)) {
    PrintJson(response);
  } else {
    std::cout << "revoked token " << id << " of '"
              << response.info().principal() << "'\n";
  }
  return kOk;
}

int TokenList(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.String("principal", "only this principal's tokens");
  flags.Bool("json", "print the response as JSON");
  int code;
  if (!ParseFlags(options, "Lists access tokens (never their values).", flags,
                  args, &code)) {
    return code;
  }
  v1::ListTokensRequest request;
  request.set_principal(flags.Get("principal"));
  v1::ListTokensResponse response;
  grpc::Status status = Admin(options)->ListTokens(CallContext(options).get(),
                                                   request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (WantsJson(options, flags)) {
    PrintJson(response);
    return kOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ID", "PRINCIPAL", "STATE", "CREATED", "EXPIRES", "DESCRIPTION"}};
  for (const auto& t : response.tokens()) {
    rows.push_back(
        {absl::StrCat(t.id()), t.principal(),
         t.has_revoked_at() ? "revoked" : "active",
         FormatTime(t.created_at().seconds()),
         t.has_expires_at() ? FormatTime(t.expires_at().seconds()) : "never",
         t.description()});
  }
  PrintTable(rows);
  return kOk;
}

void AddGrantFlags(Flags& flags) {
  flags.String("principal", "who");
  flags.String("permission",
               "ALLOW (a project's AI catalog), READ or DEPLOY (a "
               "repository) or ADMIN");
  flags.String("resource",
               "project key for ALLOW, repository key for READ and "
               "DEPLOY, empty for ADMIN");
  flags.Bool("json", "print the response as JSON");
}

bool ReadGrant(const GlobalOptions& options, const Flags& flags,
               v1::Grant* grant, int* code) {
  if (flags.Get("principal").empty() || flags.Get("permission").empty()) {
    *code =
        UsageError(options.command, "--principal and --permission are required",
                   flags.Help());
    return false;
  }
  grant->set_principal(flags.Get("principal"));
  grant->set_permission(flags.Get("permission"));
  grant->set_resource(flags.Get("resource"));
  return true;
}

// Grant and revoke differ only in the call and the words printed.
template <typename Request, typename Response>
int ChangeGrant(GlobalOptions& options, const std::vector<std::string>& args,
                const std::string& summary, const std::string& done,
                const std::string& preposition,
                grpc::Status (McpRegistryAdmin::Stub::*call)(
                    grpc::ClientContext*, const Request&, Response*)) {
  Flags flags;
  AddGrantFlags(flags);
  int code;
  if (!ParseFlags(options, summary, flags, args, &code)) return code;
  Request request;
  if (!ReadGrant(options, flags, request.mutable_grant(), &code)) return code;
  Response response;
  grpc::Status status = (Admin(options).get()->*call)(
      CallContext(options).get(), request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (WantsJson(options, flags)) {
    PrintJson(response);
    return kOk;
  }
  if constexpr (std::is_same_v<Response, v1::GrantPermissionResponse>) {
    if (!response.created()) {
      std::cout << "'" << request.grant().principal() << "' already holds "
                << request.grant().permission() << " on '"
                << request.grant().resource() << "'\n";
      return kOk;
    }
  }
  std::cout << done << " " << request.grant().permission() << " on '"
            << request.grant().resource() << "' " << preposition << " '"
            << request.grant().principal() << "'\n";
  return kOk;
}

int GrantAdd(GlobalOptions& options, const std::vector<std::string>& args) {
  return ChangeGrant(options, args, "Grants a permission (idempotent).",
                     "granted", "to", &McpRegistryAdmin::Stub::GrantPermission);
}

int GrantRevoke(GlobalOptions& options, const std::vector<std::string>& args) {
  return ChangeGrant(options, args, "Revokes a permission.", "revoked", "from",
                     &McpRegistryAdmin::Stub::RevokePermission);
}

int GrantList(GlobalOptions& options, const std::vector<std::string>& args) {
  Flags flags;
  flags.String("principal", "only this principal's grants");
  flags.Bool("json", "print the response as JSON");
  int code;
  if (!ParseFlags(options, "Lists grants.", flags, args, &code)) return code;
  v1::ListGrantsRequest request;
  request.set_principal(flags.Get("principal"));
  v1::ListGrantsResponse response;
  grpc::Status status = Admin(options)->ListGrants(CallContext(options).get(),
                                                   request, &response);
  if (!status.ok()) return ReportError(status, options);
  if (WantsJson(options, flags)) {
    PrintJson(response);
    return kOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"PRINCIPAL", "PERMISSION", "RESOURCE", "GRANTED", "BY"}};
  for (const auto& g : response.grants()) {
    rows.push_back({g.principal(), g.permission(), g.resource(),
                    FormatTime(g.created_at().seconds()), g.created_by()});
  }
  PrintTable(rows);
  return kOk;
}

}  // namespace

std::vector<Command> AdminCommands() {
  return {
      {"admin repo create", "create a repository", RepoCreate},
      {"admin repo list", "list repositories", RepoList},
      {"admin token create", "create an access token (shown once)",
       TokenCreate},
      {"admin token revoke", "revoke an access token", TokenRevoke},
      {"admin token list", "list access tokens", TokenList},
      {"admin grant add", "grant ALLOW, READ, DEPLOY or ADMIN", GrantAdd},
      {"admin grant revoke", "revoke a grant", GrantRevoke},
      {"admin grant list", "list grants", GrantList},
  };
}

}  // namespace mcpreg::cli
