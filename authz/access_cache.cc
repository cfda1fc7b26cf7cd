#include "authz/access_cache.h"

namespace mcpreg::authz {

uint64_t AccessCache::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

std::optional<AccessCache::Token> AccessCache::FindToken(
    const std::string& sha256_hex) const {
  absl::MutexLock lock(&mu_);
  if (!usable_) return std::nullopt;
  auto it = tokens_.find(sha256_hex);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

void AccessCache::PutToken(const std::string& sha256_hex, Token token,
                           uint64_t generation) {
  absl::MutexLock lock(&mu_);
  if (!usable_ || generation != generation_) return;
  if (tokens_.size() >= kMaxEntries) tokens_.clear();
  tokens_[sha256_hex] = std::move(token);
}

std::optional<bool> AccessCache::FindGrant(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  if (!usable_) return std::nullopt;
  auto it = grants_.find(key);
  if (it == grants_.end()) return std::nullopt;
  return it->second;
}

void AccessCache::PutGrant(const std::string& key, bool held,
                           uint64_t generation) {
  absl::MutexLock lock(&mu_);
  if (!usable_ || generation != generation_) return;
  if (grants_.size() >= kMaxEntries) grants_.clear();
  grants_[key] = held;
}

void AccessCache::Invalidate() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  tokens_.clear();
  grants_.clear();
}

void AccessCache::Reset(bool usable) {
  absl::MutexLock lock(&mu_);
  ++generation_;
  tokens_.clear();
  grants_.clear();
  usable_ = usable;
}

}  // namespace mcpreg::authz
