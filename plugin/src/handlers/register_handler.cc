#include "plugin/src/handlers/register_handler.h"

#include "absl/strings/str_cat.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/package_manifests.h"
#include "plugin/src/handlers/repository_checks.h"
#include "plugin/src/validation/register_validation.h"
#include "storage/repo/package_manifest.h"

namespace mcpreg {
namespace {

// Reads the package's own manifest and checks it against the request and the
// repository: the name when none was given, the version, the package type.
absl::StatusOr<storage::PackageManifest> ReadManifest(
    RegistryDependencies& deps, const storage::RepositoryInfo& repo,
    const v1::RegisterCustomServerRequest& request,
    const std::string& sha256_hex, const storage::CallDeadline& deadline) {
  absl::StatusOr<storage::PackageManifest> manifest =
      ManifestOf(deps, request.repo_artifact_info().repo_key(),
                 request.repo_artifact_info().repo_path(), sha256_hex, deadline,
                 "repoArtifactInfo.repoPath");
  if (!manifest.ok()) return manifest.status();
  if (manifest->package_type != repo.package_type) {
    return absl::FailedPreconditionError(
        absl::StrCat("repoArtifactInfo.repoPath: is a ", manifest->package_type,
                     " package (", manifest->format, ") but repository '",
                     repo.key, "' holds ", repo.package_type, " packages"));
  }
  const std::string& version = request.mcp_server_info().version();
  if (!manifest->version.empty() && manifest->version != version) {
    return absl::InvalidArgumentError(
        absl::StrCat("mcpServerInfo.version: '", version,
                     "' does not match the package's own version '",
                     manifest->version, "'"));
  }
  return manifest;
}

}  // namespace

absl::StatusOr<v1::RegisterCustomServerResponse> HandleRegisterCustomServer(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::RegisterCustomServerRequest& request) {
  if (absl::Status s = ValidateRegisterRequest(request); !s.ok()) return s;
  CallScope scope(deps, ctx, "register");
  const std::string& project = request.project_key();
  const auto& artifact = request.repo_artifact_info();
  const auto& info = request.mcp_server_info();

  absl::StatusOr<authz::Principal> principal =
      scope.AuthenticateWithAllow(project, request.name());
  if (!principal.ok()) return principal.status();
  if (absl::Status s =
          scope.Require(*principal, authz::Permission::kRead,
                        artifact.repo_key(), project, request.name());
      !s.ok()) {
    return s;
  }

  absl::StatusOr<storage::RepositoryInfo> repo = CheckRegistrableRepository(
      *deps.repositories, artifact.repo_key(), project);
  if (!repo.ok()) return repo.status();
  const storage::CallDeadline deadline(scope.deadline(),
                                       [&ctx] { return ctx.cancelled(); });
  absl::StatusOr<storage::ArtifactStat> stat = CheckArtifactFile(
      *deps.repositories, artifact.repo_key(), artifact.repo_path(),
      "repoArtifactInfo.repoPath", deps.max_artifact_bytes, deadline);
  if (!stat.ok()) return stat.status();
  if (!artifact.readme_path().empty()) {
    absl::StatusOr<storage::ArtifactStat> readme = CheckArtifactFile(
        *deps.repositories, artifact.repo_key(), artifact.readme_path(),
        "repoArtifactInfo.readmePath", kMaxReadmeBytes, deadline);
    if (!readme.ok()) return readme.status();
  }
  absl::StatusOr<storage::PackageManifest> manifest =
      ReadManifest(deps, *repo, request, stat->sha256_hex, deadline);
  if (!manifest.ok()) return manifest.status();

  const std::string name =
      request.name().empty() ? manifest->name : request.name();
  if (absl::Status s = ValidateServerName(
          name, request.name().empty() ? "repoArtifactInfo.repoPath" : "name");
      !s.ok()) {
    return s;
  }
  // Cached only now: registrations the checks above refuse must not fill it.
  deps.manifests.Insert(stat->sha256_hex, FileName(artifact.repo_path()),
                        *manifest);

  storage::NewServerVersion v;
  v.project_key = project;
  v.name = name;
  v.display_name = absl::StrCat(repo->package_type, ":", repo->key, ":", name);
  v.repo_key = repo->key;
  v.package_type = repo->package_type;
  v.version = info.version();
  v.repo_path = artifact.repo_path();
  v.readme_path = artifact.readme_path();
  v.artifact_sha256 = stat->sha256_hex;
  v.artifact_size = stat->size;
  v.description = info.description();
  v.environment_variables.assign(info.environment_variables().begin(),
                                 info.environment_variables().end());
  v.runtime_arguments.assign(info.runtime_arguments().begin(),
                             info.runtime_arguments().end());
  v.actor = principal->name;
  storage::AuditEvent audit = scope.Audit(*principal, project, v.display_name);
  audit.details_json =
      absl::StrCat("{\"version\":\"", v.version, "\",\"sha256\":\"",
                   v.artifact_sha256, "\"}");

  absl::StatusOr<storage::Registered> registered =
      deps.servers->Register(v, audit, scope.deadline());
  if (!registered.ok()) return registered.status();

  v1::RegisterCustomServerResponse response;
  *response.mutable_server() = std::move(registered->server);
  response.set_version(v.version);
  response.set_created(registered->created);
  return response;
}

}  // namespace mcpreg
