// Compiled tool policies, cached per (project, server) so a tool-call check
// needs no database read and no regex compilation. Coherent across replicas:
// every policy change and unregister NOTIFYs the server id, and the listener
// drops the entry; while the listener is disconnected the cache is bypassed
// (notifications could be missed) and cleared when it reconnects.
#ifndef MCPREG_PLUGIN_GOVERNANCE_POLICY_CACHE_H_
#define MCPREG_PLUGIN_GOVERNANCE_POLICY_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "policy/tool_policy.h"
#include "storage/policy_store.h"

namespace mcpreg {

struct CachedServerPolicy {
  storage::ServerPolicy server;
  // Null when the server has no policy (zero trust: no tool is allowed).
  std::shared_ptr<const policy::CompiledPolicy> compiled;

  bool pinned() const {
    return server.policy.has_value() && server.policy->pin_definitions();
  }
  bool IsApproved(absl::string_view tool, absl::string_view digest) const;
  // Fills the sets below from `server`'s definitions.
  void IndexDefinitions();

  // DefinitionKey()s of the approved and the recorded definitions, and
  // version + "\n" + key of what each version showed: a report with
  // nothing new needs no write.
  absl::flat_hash_set<std::string> approved;
  absl::flat_hash_set<std::string> recorded;
  absl::flat_hash_set<std::string> sightings;
  // Tools whose first use is spent (an approval, even revoked), and how
  // many definitions each tool has recorded.
  absl::flat_hash_set<std::string> ever_approved_tools;
  absl::flat_hash_map<std::string, int> definitions_per_tool;
};

// How CachedServerPolicy's sets name one definition of a tool.
std::string DefinitionKey(absl::string_view tool, absl::string_view digest);

// Compiles a stored policy; INVALID_ARGUMENT names `field_prefix`.
absl::StatusOr<std::shared_ptr<const policy::CompiledPolicy>> CompileToolPolicy(
    const v1::ToolPolicy& policy, absl::string_view field_prefix);

class PolicyCache {
 public:
  static constexpr size_t kMaxEntries = 100000;

  explicit PolicyCache(storage::PolicyStore& store) : store_(store) {}

  // From the cache, or loaded and compiled. NOT_FOUND for an unknown server.
  absl::StatusOr<std::shared_ptr<const CachedServerPolicy>> Get(
      const std::string& project_key, const std::string& server,
      absl::Time deadline);
  // From the cache only, without blocking; null when not cached.
  std::shared_ptr<const CachedServerPolicy> Find(const std::string& project_key,
                                                 const std::string& server);

  // A notification for `server_id` (as text) arrived, or this replica changed
  // the policy itself.
  void Invalidate(int64_t server_id);
  void InvalidatePayload(const std::string& payload);
  // Drops `server_id`'s entries only while they still hold `revision`: of
  // many decisions that met one policy change, the first reloads the
  // policy and the rest find the new one cached.
  void InvalidateRevision(int64_t server_id, int64_t revision);
  // The listener (re)connected (`usable`) or lost its connection.
  void Reset(bool usable);

  int64_t hits() const;
  int64_t loads() const;

 private:
  std::shared_ptr<const CachedServerPolicy> FindLocked(const std::string& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::PolicyStore& store_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const CachedServerPolicy>>
      entries_ ABSL_GUARDED_BY(mu_);
  // Bumped by every invalidation: a load that started before one must not
  // store what it read.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool usable_ ABSL_GUARDED_BY(mu_) = false;
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_GOVERNANCE_POLICY_CACHE_H_
