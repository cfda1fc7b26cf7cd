#include "plugin/src/handlers/repository_checks.h"

#include "absl/strings/str_cat.h"
#include "storage/repo/safe_path.h"

namespace mcpreg {
namespace {

// "64 MiB", "256 KiB", "1000 bytes".
std::string Size(uint64_t bytes) {
  if (bytes != 0 && bytes % (1 << 20) == 0) {
    return absl::StrCat(bytes >> 20, " MiB");
  }
  if (bytes != 0 && bytes % (1 << 10) == 0) {
    return absl::StrCat(bytes >> 10, " KiB");
  }
  return absl::StrCat(bytes, " bytes");
}

}  // namespace

absl::StatusOr<storage::RepositoryInfo> CheckRegistrableRepository(
    storage::RepositoryStore& repositories, const std::string& repo_key,
    const std::string& project_key) {
  absl::StatusOr<storage::RepositoryInfo> repo =
      repositories.GetRepository(repo_key);
  if (repo.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("repoArtifactInfo.repoKey: repository '", repo_key,
                     "' does not exist"));
  }
  if (!repo.ok()) return repo.status();
  if (repo->repo_class != "local") {
    return absl::FailedPreconditionError(absl::StrCat(
        "repoArtifactInfo.repoKey: repository '", repo_key, "' is a ",
        repo->repo_class,
        " repository; custom MCP servers are registered from local "
        "repositories only"));
  }
  if (repo->package_type != "npm" && repo->package_type != "pypi") {
    return absl::FailedPreconditionError(absl::StrCat(
        "repoArtifactInfo.repoKey: repository '", repo_key, "' holds ",
        repo->package_type,
        " packages; only npm and pypi packages can be registered as custom "
        "MCP servers (servers packaged otherwise belong in the public MCP "
        "catalog)"));
  }
  if (repo->project_key != project_key) {
    return absl::FailedPreconditionError(absl::StrCat(
        "repoArtifactInfo.repoKey: repository '", repo_key,
        "' is not assigned to project '", project_key, "'",
        repo->project_key.empty()
            ? std::string(" (it is assigned to no project)")
            : absl::StrCat(" (it belongs to '", repo->project_key, "')")));
  }
  return repo;
}

absl::StatusOr<storage::ArtifactStat> CheckArtifactFile(
    storage::RepositoryStore& repositories, const std::string& repo_key,
    const std::string& path, const std::string& field, uint64_t max_bytes,
    const storage::CallDeadline& deadline) {
  if (absl::Status s = storage::CheckRelativePath(path, field); !s.ok()) {
    return s;
  }
  absl::StatusOr<storage::ArtifactStat> stat =
      repositories.StatArtifact(repo_key, path, max_bytes, deadline);
  if (stat.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat(
        field, ": no file at '", path, "' in repository '", repo_key, "'"));
  }
  if (stat.status().code() == absl::StatusCode::kResourceExhausted) {
    return absl::ResourceExhaustedError(absl::StrCat(
        field, ": '", path, "' in repository '", repo_key,
        "' is larger than the ", Size(max_bytes), " this registry reads"));
  }
  if (!stat.ok()) {
    return absl::Status(stat.status().code(),
                        absl::StrCat(field, ": ", stat.status().message()));
  }
  if (!stat->is_regular_file) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": '", path, "' in repository '", repo_key,
                     "' is a folder, not a file"));
  }
  return stat;
}

}  // namespace mcpreg
