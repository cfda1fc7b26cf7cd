#include "storage/repo/manifest_cache.h"

#include "absl/strings/str_cat.h"

namespace mcpreg::storage {

std::string ManifestCache::Key(absl::string_view sha256_hex,
                               absl::string_view file_name) {
  // A digest is hex, so '/' cannot occur in it: keys cannot collide.
  return absl::StrCat(sha256_hex, "/", file_name);
}

size_t ManifestCache::Cost(absl::string_view key,
                           const PackageManifest& manifest) {
  // A hash map slot, a list node and six string headers, roughly.
  constexpr size_t kOverhead = 256;
  return kOverhead + 2 * key.size() + manifest.package_type.size() +
         manifest.format.size() + manifest.name.size() +
         manifest.version.size() + manifest.description.size();
}

std::optional<PackageManifest> ManifestCache::Find(
    absl::string_view sha256_hex, absl::string_view file_name) const {
  const std::string key = Key(sha256_hex, file_name);
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.manifest;
}

void ManifestCache::Insert(absl::string_view sha256_hex,
                           absl::string_view file_name,
                           const PackageManifest& manifest) {
  if (sha256_hex.empty()) return;
  std::string key = Key(sha256_hex, file_name);
  const size_t cost = Cost(key, manifest);
  if (cost > max_bytes_) return;
  absl::MutexLock lock(&mu_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    // The same digest reads to the same manifest: nothing to replace.
    return;
  }
  while (bytes_ + cost > max_bytes_ && !oldest_first_.empty()) {
    auto oldest = entries_.find(oldest_first_.front());
    bytes_ -= oldest->second.cost;
    entries_.erase(oldest);
    oldest_first_.pop_front();
  }
  oldest_first_.push_back(key);
  entries_.emplace(std::move(key), Entry{manifest, cost});
  bytes_ += cost;
}

size_t ManifestCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

size_t ManifestCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace mcpreg::storage
