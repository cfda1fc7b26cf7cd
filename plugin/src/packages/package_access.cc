#include "plugin/src/packages/package_access.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace mcpreg {
namespace {

// A Host header is what a client typed: host name or address and port.
bool IsHostHeader(absl::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != ':' &&
        c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<storage::RepositoryInfo> OpenPackageRepository(
    RegistryDependencies& deps, CallScope& scope, const std::string& repo_key,
    const std::string& package_type, authz::Permission permission,
    std::string* principal) {
  if (absl::Status s = storage::CheckRepositoryKey(repo_key, "repoKey");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<storage::RepositoryInfo> repo =
      deps.repositories->GetRepository(repo_key);
  const bool anonymous_read = permission == authz::Permission::kRead &&
                              repo.ok() && repo->anonymous_read;
  const bool credentials =
      std::any_of(scope.metadata().begin(), scope.metadata().end(),
                  [](const auto& kv) { return kv.first == "authorization"; });
  if (anonymous_read && !credentials) {
    *principal = "anonymous";
  } else {
    absl::StatusOr<authz::Principal> caller = scope.Authenticate("", "");
    if (!caller.ok()) return caller.status();
    *principal = caller->name;
    if (!repo.ok()) return repo.status();
    // Anyone may read a repository open to anonymous reads: a token without
    // READ is served like no token, and is no denial to audit.
    if (!anonymous_read) {
      if (absl::Status s = scope.Require(*caller, permission, repo_key,
                                         repo->project_key, "");
          !s.ok()) {
        return s;
      }
    }
  }
  if (repo->repo_class != "local" || repo->package_type != package_type) {
    return absl::FailedPreconditionError(absl::StrCat(
        "repository '", repo_key, "' is a ", repo->repo_class, " ",
        repo->package_type, " repository; these endpoints serve local ",
        package_type, " repositories"));
  }
  return repo;
}

std::string PackageBaseUrl(const RegistryDependencies& deps,
                           const sdk::CallContext& ctx) {
  if (!deps.package_base_url.empty()) {
    absl::string_view base = deps.package_base_url;
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    return std::string(base);
  }
  absl::string_view host = ctx.Header("host");
  if (!IsHostHeader(host)) host = "127.0.0.1";
  return absl::StrCat("http://", host);
}

void AuditPublish(RegistryDependencies& deps, const CallScope& scope,
                  const std::string& principal,
                  const storage::RepositoryInfo& repo, const std::string& path,
                  const std::string& sha256) {
  storage::AuditEvent e =
      scope.Audit(authz::Principal{principal}, repo.project_key, "");
  e.action = "package.publish";
  google::protobuf::Struct details;
  auto& f = *details.mutable_fields();
  f["repoKey"].set_string_value(repo.key);
  f["repoPath"].set_string_value(path);
  f["sha256"].set_string_value(sha256);
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(details, &json);
  e.details_json = json;
  // The file is published whatever the audit's fate; a failure is logged.
  if (absl::Status s = deps.audit->Append(e, scope.deadline()); !s.ok()) {
    deps.log.Warning(absl::StrCat("package.publish of ", repo.key, "/", path,
                                  " not audited: ", s.message()));
  }
}

}  // namespace mcpreg
