// Package manifests already read, by the content they were read from. A
// registration otherwise reads the whole artifact a second time and unpacks
// it (libarchive, zlib) for a few fields — about a tenth of the host's CPU
// per registration — although the artifact was just hashed to check it.
//
// The key is the artifact's SHA-256 and its file name (the name picks the
// format), so a changed or replaced file is a different key: an entry can
// never be stale, only unused. Only manifests read from bytes whose digest
// matched the key, and that passed a registration's checks, are stored (see
// the register handler): a failed registration must not fill it.
#ifndef MCPREG_STORAGE_REPO_MANIFEST_CACHE_H_
#define MCPREG_STORAGE_REPO_MANIFEST_CACHE_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "storage/repo/package_manifest.h"

namespace mcpreg::storage {

// 64 MiB: a manifest's fields are usually a few hundred bytes (over 100,000
// of them), but a description may be up to a whole 1 MiB manifest, so a
// bound by count is no bound on memory.
inline constexpr size_t kManifestCacheBytes = size_t{64} << 20;

// Thread-safe; holds manifests whose cost (ManifestCache::Cost) totals at
// most `max_bytes`, dropping the oldest first to make room. One larger than
// the whole budget is not stored.
class ManifestCache {
 public:
  explicit ManifestCache(size_t max_bytes = kManifestCacheBytes)
      : max_bytes_(max_bytes) {}

  std::optional<PackageManifest> Find(absl::string_view sha256_hex,
                                      absl::string_view file_name) const;
  void Insert(absl::string_view sha256_hex, absl::string_view file_name,
              const PackageManifest& manifest);

  size_t size() const;
  size_t bytes() const;  // total cost of what is held

  // What an entry counts against the budget: its key and strings, and a
  // fixed allowance for the containers' own overhead.
  static size_t Cost(absl::string_view key, const PackageManifest& manifest);

 private:
  struct Entry {
    PackageManifest manifest;
    size_t cost;
  };
  static std::string Key(absl::string_view sha256_hex,
                         absl::string_view file_name);

  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> oldest_first_ ABSL_GUARDED_BY(mu_);  // keys
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_MANIFEST_CACHE_H_
