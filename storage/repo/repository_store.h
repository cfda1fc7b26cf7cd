// Where packages live: repositories (settings: package type, class, project)
// holding artifacts at relative paths. Two backends: folders under a storage
// root (built in) and the host platform's own storage (ABI callbacks).
#ifndef MCPREG_STORAGE_REPO_REPOSITORY_STORE_H_
#define MCPREG_STORAGE_REPO_REPOSITORY_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/repo/artifact_listing.h"
#include "storage/repo/call_deadline.h"

namespace mcpreg::storage {

struct RepositoryInfo {
  std::string key;
  std::string package_type;  // "npm", "pypi", "docker", ...
  std::string repo_class;    // "local", "remote" or "virtual"
  std::string project_key;   // "" when assigned to no project
  // The npm and PyPI endpoints serve it to callers without a token (off
  // unless set; publishing always needs DEPLOY).
  bool anonymous_read = false;
};

struct ArtifactStat {
  bool is_regular_file = false;
  uint64_t size = 0;
  std::string sha256_hex;  // of the content; "" for folders
};

// Thread-safe. Every path argument is relative to its repository and is
// refused (INVALID_ARGUMENT) unless it stays strictly beneath it.
class RepositoryStore {
 public:
  virtual ~RepositoryStore() = default;

  // NOT_FOUND when no repository has this key.
  virtual absl::StatusOr<RepositoryInfo> GetRepository(
      absl::string_view key) = 0;
  // ALREADY_EXISTS when the key is taken; INVALID_ARGUMENT names the field.
  virtual absl::Status CreateRepository(const RepositoryInfo& info) = 0;
  // Sorted by key.
  virtual absl::StatusOr<std::vector<RepositoryInfo>> ListRepositories() = 0;

  // Reading stops with `deadline` (DEADLINE_EXCEEDED, CANCELLED) and never
  // blocks on what is not a file: a FIFO, a device or a socket is
  // FAILED_PRECONDITION, opened without waiting and never read.

  // NOT_FOUND when the repository or the artifact is absent. A file larger
  // than `max_bytes` is RESOURCE_EXHAUSTED before any of it is read (hashed).
  virtual absl::StatusOr<ArtifactStat> StatArtifact(
      absl::string_view repo_key, absl::string_view path, uint64_t max_bytes,
      const CallDeadline& deadline) = 0;
  // RESOURCE_EXHAUSTED when the artifact is larger than `max_bytes`, before
  // any of it is read; FAILED_PRECONDITION when it is a folder.
  virtual absl::StatusOr<std::string> ReadArtifact(
      absl::string_view repo_key, absl::string_view path, size_t max_bytes,
      const CallDeadline& deadline) = 0;
  // Creates parent folders; replaces atomically (readers see old or new).
  virtual absl::Status WriteArtifact(absl::string_view repo_key,
                                     absl::string_view path,
                                     absl::string_view bytes) = 0;
  // Publishes a new artifact: streamed to a temporary file beside it,
  // fsynced, and linked into place only if nothing is there yet, so a
  // published file is never replaced and of concurrent publishes of one
  // path exactly one succeeds (the others: ALREADY_EXISTS); nothing is left
  // behind on failure. UNIMPLEMENTED where the storage cannot (the ABI's).
  virtual absl::Status PublishArtifact(absl::string_view /*repo_key*/,
                                       absl::string_view /*path*/,
                                       absl::string_view /*bytes*/) {
    return absl::UnimplementedError(
        "this registry's storage cannot take published packages");
  }
  // Up to `length` bytes of a file from `offset`: fewer at its end, none
  // past it. For handing a package out a chunk at a time (FetchArtifact).
  virtual absl::StatusOr<std::string> ReadArtifactRange(
      absl::string_view repo_key, absl::string_view path, uint64_t offset,
      size_t length) = 0;
  // The repository's files under a path prefix (artifact_listing.h), for
  // people choosing one. UNIMPLEMENTED where the storage cannot list (the
  // ABI's storage callbacks have no listing).
  virtual absl::StatusOr<ArtifactListing> ListArtifacts(
      absl::string_view /*repo_key*/, absl::string_view /*prefix*/,
      size_t /*limit*/, const CallDeadline& /*deadline*/) {
    return absl::UnimplementedError(
        "this registry's storage cannot list a repository's files");
  }
};

// Repositories as folders: artifacts under `<root>/<key>/`, settings in
// `<root>/.settings/<key>.json`. Creates `root` if missing.
absl::StatusOr<std::unique_ptr<RepositoryStore>> NewFilesystemRepositoryStore(
    const std::string& root);

// INVALID_ARGUMENT unless `key` is a repository key: 1-64 characters of
// letters, digits, '.', '_' and '-', starting with a letter or digit.
absl::Status CheckRepositoryKey(absl::string_view key, absl::string_view field);

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_REPOSITORY_STORE_H_
