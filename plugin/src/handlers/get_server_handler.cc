// GetServer: one server, its latest version with the README text first, then
// the others a page at a time, so its cost does not grow with its history.
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/repository_checks.h"
#include "plugin/src/handlers/server_access.h"
#include "plugin/src/handlers/server_handlers.h"
#include "plugin/src/validation/register_validation.h"

namespace mcpreg {
namespace {

constexpr uint32_t kDefaultVersionsPerPage = 20;
constexpr uint32_t kMaxVersionsPerPage = 200;

// A page token is the registration position the next page starts before,
// opaque to callers.
std::string PageToken(int64_t before) {
  std::string token;
  absl::WebSafeBase64Escape(absl::StrCat(before), &token);
  return token;
}

absl::StatusOr<int64_t> ParsePageToken(const std::string& token) {
  if (token.empty()) return 0;
  std::string text;
  int64_t before = 0;
  if (!absl::WebSafeBase64Unescape(token, &text) ||
      !absl::SimpleAtoi(text, &before) || before <= 0) {
    return absl::InvalidArgumentError(
        "pageToken: not a token from a previous GetServer response");
  }
  return before;
}

}  // namespace

absl::StatusOr<v1::Server> HandleGetServer(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::GetServerRequest& request) {
  CallScope scope(deps, ctx, "get");
  const std::string project = scope.ProjectKey(request.project_key());
  if (absl::Status s = ValidateProjectKey(project, "projectKey"); !s.ok()) {
    return s;
  }
  if (request.page_size() > kMaxVersionsPerPage) {
    return absl::InvalidArgumentError(
        absl::StrCat("pageSize: at most ", kMaxVersionsPerPage));
  }
  absl::StatusOr<int64_t> before = ParsePageToken(request.page_token());
  if (!before.ok()) return before.status();
  // Through the same door as every per-server call: a server the caller
  // may not read looks like one that does not exist.
  absl::StatusOr<ServerAccess> access =
      OpenServerForCaller(deps, scope, request.project_key(), request.name(),
                          "projectKey", "name", authz::Permission::kRead);
  if (!access.ok()) return access.status();
  absl::StatusOr<storage::ServerVersions> page = deps.servers->Get(
      project, access->server->server.display_name,
      request.page_size() == 0 ? kDefaultVersionsPerPage : request.page_size(),
      *before, scope.deadline());
  if (page.status().code() == absl::StatusCode::kNotFound) {
    return UnknownServer(project, request.name(), "name");
  }
  if (!page.ok()) return page.status();
  v1::Server* server = &page->server;
  if (access->server->server.policy.has_value()) {
    *server->mutable_tool_policy() = *access->server->server.policy;
  }
  if (page->next_before != 0) {
    server->set_versions_next_page_token(PageToken(page->next_before));
  }
  // Only the latest version's README, and only on the page that holds it.
  if (*before == 0 && server->versions_size() > 0) {
    v1::ServerVersion& latest = *server->mutable_versions(0);
    if (latest.version() == server->latest_version() &&
        !latest.artifact().readme_path().empty()) {
      absl::StatusOr<std::string> readme = deps.repositories->ReadArtifact(
          latest.artifact().repo_key(), latest.artifact().readme_path(),
          kMaxReadmeBytes, storage::CallDeadline(scope.deadline()));
      // A README removed from storage since registration is not an error.
      if (readme.ok()) latest.set_readme(*readme);
    }
  }
  return std::move(*server);
}

}  // namespace mcpreg
