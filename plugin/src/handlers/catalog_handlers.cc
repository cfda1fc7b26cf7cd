#include "plugin/src/handlers/catalog_handlers.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/package_manifests.h"
#include "plugin/src/handlers/repository_checks.h"
#include "plugin/src/validation/register_validation.h"
#include "storage/repo/safe_path.h"

namespace mcpreg {
namespace {

constexpr uint32_t kDefaultFilePageSize = 100;
constexpr uint32_t kMaxFilePageSize = 1000;
constexpr size_t kMaxPrefixBytes = 1024;

// Whether `principal` holds `permission` on `resource`: filtering, not
// refusing, so a missing permission is false and no denial is audited.
absl::StatusOr<bool> Holds(RegistryDependencies& deps, CallScope& scope,
                           const authz::Principal& principal,
                           authz::Permission permission,
                           const std::string& resource) {
  absl::Status s = deps.authorizer->Require(
      principal, scope.metadata(), permission, resource, scope.deadline());
  if (s.ok()) return true;
  if (s.code() == absl::StatusCode::kPermissionDenied) return false;
  return s;
}

bool Registrable(const storage::RepositoryInfo& repo) {
  return repo.repo_class == "local" &&
         (repo.package_type == "npm" || repo.package_type == "pypi");
}

// The caller, with READ on `repo_key` required (the denial audited). The
// permission is checked before the repository is looked up, so the answer
// is the same whether it exists or not.
absl::StatusOr<authz::Principal> ReaderOf(CallScope& scope,
                                          const std::string& repo_key) {
  absl::StatusOr<authz::Principal> principal = scope.Authenticate("", "");
  if (!principal.ok()) return principal;
  if (absl::Status s =
          scope.Require(*principal, authz::Permission::kRead, repo_key, "", "");
      !s.ok()) {
    return s;
  }
  return principal;
}

}  // namespace

absl::StatusOr<v1::ListMyProjectsResponse> HandleListMyProjects(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListMyProjectsRequest&) {
  CallScope scope(deps, ctx, "projects.list");
  absl::StatusOr<authz::Principal> principal = scope.Authenticate("", "");
  if (!principal.ok()) return principal.status();
  v1::ListMyProjectsResponse response;
  response.set_principal(principal->name);
  absl::StatusOr<bool> admin =
      Holds(deps, scope, *principal, authz::Permission::kAdmin, "");
  if (!admin.ok()) return admin.status();
  response.set_admin(*admin);

  absl::StatusOr<std::vector<storage::RepositoryInfo>> repos =
      deps.repositories->ListRepositories();
  if (!repos.ok()) return repos.status();
  std::map<std::string, std::vector<std::string>> repos_of_project;
  for (const storage::RepositoryInfo& repo : *repos) {
    if (!repo.project_key.empty()) {
      repos_of_project[repo.project_key].push_back(repo.key);
    }
  }
  for (const auto& [project, keys] : repos_of_project) {
    absl::StatusOr<bool> allow =
        Holds(deps, scope, *principal, authz::Permission::kAllow, project);
    if (!allow.ok()) return allow.status();
    bool member = *allow;
    for (size_t i = 0; !member && i < keys.size(); ++i) {
      absl::StatusOr<bool> read =
          Holds(deps, scope, *principal, authz::Permission::kRead, keys[i]);
      if (!read.ok()) return read.status();
      member = *read;
    }
    if (!member) continue;
    v1::ProjectAccess& p = *response.add_projects();
    p.set_project_key(project);
    p.set_can_register(*allow);
  }
  return response;
}

absl::StatusOr<v1::ListProjectRepositoriesResponse>
HandleListProjectRepositories(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListProjectRepositoriesRequest& request) {
  CallScope scope(deps, ctx, "repositories.list");
  const std::string project = scope.ProjectKey(request.project_key());
  if (absl::Status s = ValidateProjectKey(project, "projectKey"); !s.ok()) {
    return s;
  }
  absl::StatusOr<authz::Principal> principal = scope.Authenticate(project, "");
  if (!principal.ok()) return principal.status();
  absl::StatusOr<std::vector<storage::RepositoryInfo>> repos =
      deps.repositories->ListRepositories();
  if (!repos.ok()) return repos.status();
  v1::ListProjectRepositoriesResponse response;
  for (const storage::RepositoryInfo& repo : *repos) {
    if (repo.project_key != project || !Registrable(repo)) continue;
    absl::StatusOr<bool> read =
        Holds(deps, scope, *principal, authz::Permission::kRead, repo.key);
    if (!read.ok()) return read.status();
    if (!*read) continue;
    v1::ProjectRepository& out = *response.add_repositories();
    out.set_repo_key(repo.key);
    out.set_package_type(repo.package_type);
  }
  return response;
}

absl::StatusOr<v1::ListRepositoryFilesResponse> HandleListRepositoryFiles(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListRepositoryFilesRequest& request) {
  if (absl::Status s = ValidateRepoKey(request.repo_key(), "repoKey");
      !s.ok()) {
    return s;
  }
  if (request.prefix().size() > kMaxPrefixBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix: at most ", kMaxPrefixBytes, " bytes"));
  }
  if (request.page_size() > kMaxFilePageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("pageSize: at most ", kMaxFilePageSize));
  }
  CallScope scope(deps, ctx, "repository.files");
  absl::StatusOr<authz::Principal> principal =
      ReaderOf(scope, request.repo_key());
  if (!principal.ok()) return principal.status();
  const storage::CallDeadline deadline(scope.deadline(),
                                       [&ctx] { return ctx.cancelled(); });
  absl::StatusOr<storage::ArtifactListing> listing =
      deps.repositories->ListArtifacts(
          request.repo_key(), request.prefix(),
          request.page_size() == 0 ? kDefaultFilePageSize : request.page_size(),
          deadline);
  if (!listing.ok()) return listing.status();
  v1::ListRepositoryFilesResponse response;
  for (const storage::ArtifactEntry& file : listing->files) {
    v1::RepositoryFile& out = *response.add_files();
    out.set_path(file.path);
    out.set_size_bytes(file.size);
  }
  response.set_truncated(listing->truncated);
  return response;
}

absl::StatusOr<v1::DescribePackageResponse> HandleDescribePackage(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::DescribePackageRequest& request) {
  if (absl::Status s = ValidateRepoKey(request.repo_key(), "repoKey");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = storage::CheckRelativePath(request.path(), "path");
      !s.ok()) {
    return s;
  }
  CallScope scope(deps, ctx, "package.describe");
  absl::StatusOr<authz::Principal> principal =
      ReaderOf(scope, request.repo_key());
  if (!principal.ok()) return principal.status();
  const storage::CallDeadline deadline(scope.deadline(),
                                       [&ctx] { return ctx.cancelled(); });
  absl::StatusOr<storage::ArtifactStat> stat =
      CheckArtifactFile(*deps.repositories, request.repo_key(), request.path(),
                        "path", deps.max_artifact_bytes, deadline);
  if (!stat.ok()) return stat.status();
  absl::StatusOr<storage::PackageManifest> manifest =
      ManifestOf(deps, request.repo_key(), request.path(), stat->sha256_hex,
                 deadline, "path");
  if (!manifest.ok()) return manifest.status();
  v1::DescribePackageResponse response;
  response.set_package_type(manifest->package_type);
  response.set_format(manifest->format);
  response.set_name(manifest->name);
  response.set_version(manifest->version);
  response.set_description(manifest->description);
  return response;
}

}  // namespace mcpreg
