// The preconditions a repository and its artifacts must meet before a server
// is registered from them. Each error names the request field it concerns.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_REPOSITORY_CHECKS_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_REPOSITORY_CHECKS_H_

#include <string>

#include "absl/status/statusor.h"
#include "storage/repo/repository_store.h"

namespace mcpreg {

// The repository exists, is local, holds npm or pypi packages and is assigned
// to `project_key`. NOT_FOUND or FAILED_PRECONDITION otherwise.
absl::StatusOr<storage::RepositoryInfo> CheckRegistrableRepository(
    storage::RepositoryStore& repositories, const std::string& repo_key,
    const std::string& project_key);

// The largest README a registration accepts and GetServer returns.
inline constexpr uint64_t kMaxReadmeBytes = 256 * 1024;

// The file at `path` exists, is a regular file and holds at most
// `max_bytes`, checked before it is hashed; hashing stops with `deadline`.
// `field` names the request field in every error
// ("repoArtifactInfo.repoPath").
absl::StatusOr<storage::ArtifactStat> CheckArtifactFile(
    storage::RepositoryStore& repositories, const std::string& repo_key,
    const std::string& path, const std::string& field, uint64_t max_bytes,
    const storage::CallDeadline& deadline);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_REPOSITORY_CHECKS_H_
