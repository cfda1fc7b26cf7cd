// ListServers: the project's servers whose repository the caller can READ,
// by name, with an opaque cursor.
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/server_handlers.h"
#include "plugin/src/validation/register_validation.h"

namespace mcpreg {
namespace {

constexpr uint32_t kDefaultPageSize = 50;
constexpr uint32_t kMaxPageSize = 500;

}  // namespace

absl::StatusOr<v1::ListServersResponse> HandleListServers(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListServersRequest& request) {
  CallScope scope(deps, ctx, "list");
  const std::string project = scope.ProjectKey(request.project_key());
  if (absl::Status s = ValidateProjectKey(project, "projectKey"); !s.ok()) {
    return s;
  }
  if (request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("pageSize: at most ", kMaxPageSize));
  }
  if (request.search().size() > 256) {
    return absl::InvalidArgumentError("search: at most 256 bytes");
  }
  const uint32_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  std::string after;
  if (!request.page_token().empty() &&
      !absl::WebSafeBase64Unescape(request.page_token(), &after)) {
    return absl::InvalidArgumentError(
        "pageToken: not a token from a previous ListServers response");
  }
  absl::StatusOr<authz::Principal> principal = scope.Authenticate(project, "");
  if (!principal.ok()) return principal.status();

  // Filtering, not refusing: a repository the caller cannot read simply
  // contributes no servers (and no denial is audited for it).
  absl::StatusOr<std::vector<std::string>> repos =
      deps.servers->RepositoriesOf(project, scope.deadline());
  if (!repos.ok()) return repos.status();
  std::vector<std::string> readable;
  for (const std::string& repo : *repos) {
    absl::Status s = deps.authorizer->Require(*principal, scope.metadata(),
                                              authz::Permission::kRead, repo,
                                              scope.deadline());
    if (s.ok()) {
      readable.push_back(repo);
    } else if (s.code() != absl::StatusCode::kPermissionDenied) {
      return s;
    }
  }
  v1::ListServersResponse response;
  if (readable.empty()) return response;
  absl::StatusOr<storage::ServerPage> page = deps.servers->List(
      project, readable, after, page_size, request.search(), scope.deadline());
  if (!page.ok()) return page.status();
  for (v1::Server& s : page->servers) *response.add_servers() = std::move(s);
  if (!page->last_name.empty()) {
    std::string token;
    absl::WebSafeBase64Escape(page->last_name, &token);
    response.set_next_page_token(token);
  }
  return response;
}

}  // namespace mcpreg
