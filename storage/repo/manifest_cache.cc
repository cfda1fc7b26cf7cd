#include "storage/repo/manifest_cache.h"

#include "absl/strings/str_cat.h"

namespace mcpreg::storage {

std::string ManifestCache::Key(absl::string_view sha256_hex,
                               absl::string_view file_name) {
  // A digest is hex, so '/' cannot occur in it: keys cannot collide.
  return absl::StrCat(sha256_hex, "/", file_name);
}

std::optional<PackageManifest> ManifestCache::Find(
    absl::string_view sha256_hex, absl::string_view file_name) const {
  const std::string key = Key(sha256_hex, file_name);
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void ManifestCache::Insert(absl::string_view sha256_hex,
                           absl::string_view file_name,
                           const PackageManifest& manifest) {
  if (max_entries_ == 0 || sha256_hex.empty()) return;
  std::string key = Key(sha256_hex, file_name);
  absl::MutexLock lock(&mu_);
  if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
    entries_.erase(entries_.begin());
  }
  entries_.insert_or_assign(std::move(key), manifest);
}

size_t ManifestCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace mcpreg::storage
