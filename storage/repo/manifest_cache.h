// Package manifests already read, by the content they were read from. A
// registration otherwise reads the whole artifact a second time and unpacks
// it (libarchive, zlib) for a few fields — about a tenth of the host's CPU
// per registration — although the artifact was just hashed to check it.
//
// The key is the artifact's SHA-256 and its file name (the name picks the
// format), so a changed or replaced file is a different key: an entry can
// never be stale, only unused. Only manifests read from bytes whose digest
// matched the key are stored (see the register handler).
#ifndef MCPREG_STORAGE_REPO_MANIFEST_CACHE_H_
#define MCPREG_STORAGE_REPO_MANIFEST_CACHE_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "storage/repo/package_manifest.h"

namespace mcpreg::storage {

// Thread-safe; holds at most `max_entries` manifests (a few hundred bytes
// each), dropping an arbitrary one to make room.
class ManifestCache {
 public:
  explicit ManifestCache(size_t max_entries = 4096)
      : max_entries_(max_entries) {}

  std::optional<PackageManifest> Find(absl::string_view sha256_hex,
                                      absl::string_view file_name) const;
  void Insert(absl::string_view sha256_hex, absl::string_view file_name,
              const PackageManifest& manifest);

  size_t size() const;

 private:
  static std::string Key(absl::string_view sha256_hex,
                         absl::string_view file_name);

  const size_t max_entries_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, PackageManifest> entries_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_MANIFEST_CACHE_H_
