// Recent access decisions of the built-in authorizer — which principal a
// token hash names, and whether a principal holds a grant — so the hot path
// (CheckToolCall) needs no database read to authenticate and authorize.
// Coherent like the policy cache: token revocations and grant changes NOTIFY
// on kAccessChannel, every replica's listener calls Reset, and while the
// listener is disconnected the cache is not used at all.
#ifndef MCPREG_AUTHZ_ACCESS_CACHE_H_
#define MCPREG_AUTHZ_ACCESS_CACHE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mcpreg::authz {

class AccessCache {
 public:
  static constexpr size_t kMaxEntries = 100000;

  struct Token {
    std::string principal;
    absl::Time expires_at = absl::InfiniteFuture();
  };

  // A snapshot to pass to Put*: what was read before an invalidation that
  // came in meanwhile is not stored.
  uint64_t generation() const;

  std::optional<Token> FindToken(const std::string& sha256_hex) const;
  void PutToken(const std::string& sha256_hex, Token token,
                uint64_t generation);

  std::optional<bool> FindGrant(const std::string& key) const;
  void PutGrant(const std::string& key, bool held, uint64_t generation);

  // Drops everything; `usable` says whether notifications are flowing.
  void Reset(bool usable);
  // Drops everything: this replica just changed access itself.
  void Invalidate();

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Token> tokens_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, bool> grants_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool usable_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace mcpreg::authz

#endif  // MCPREG_AUTHZ_ACCESS_CACHE_H_
