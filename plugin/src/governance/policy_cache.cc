#include "plugin/src/governance/policy_cache.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mcpreg {

absl::StatusOr<std::shared_ptr<const policy::CompiledPolicy>> CompileToolPolicy(
    const v1::ToolPolicy& p, absl::string_view field_prefix) {
  policy::Mode mode;
  switch (p.mode()) {
    case v1::ToolPolicy::ALLOW_ALL:
      mode = policy::Mode::kAllowAll;
      break;
    case v1::ToolPolicy::ALLOW_LIST:
      mode = policy::Mode::kAllowList;
      break;
    case v1::ToolPolicy::DENY_LIST:
      mode = policy::Mode::kDenyList;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          field_prefix, "mode: must be ALLOW_ALL, ALLOW_LIST or DENY_LIST"));
  }
  std::vector<policy::Entry> entries;
  entries.reserve(p.entries_size());
  for (const v1::ToolPolicyEntry& e : p.entries()) {
    entries.push_back({e.pattern(), e.is_regex()});
  }
  return policy::CompiledPolicy::Compile(mode, entries, field_prefix);
}

namespace {

std::string EntryKey(const std::string& project_key,
                     const std::string& server) {
  return absl::StrCat(project_key, "\n", server);
}

}  // namespace

std::shared_ptr<const CachedServerPolicy> PolicyCache::FindLocked(
    const std::string& key) {
  if (!usable_) return nullptr;
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  ++hits_;
  return it->second;
}

std::shared_ptr<const CachedServerPolicy> PolicyCache::Find(
    const std::string& project_key, const std::string& server) {
  const std::string key = EntryKey(project_key, server);
  absl::MutexLock lock(&mu_);
  return FindLocked(key);
}

absl::StatusOr<std::shared_ptr<const CachedServerPolicy>> PolicyCache::Get(
    const std::string& project_key, const std::string& server,
    absl::Time deadline) {
  const std::string key = EntryKey(project_key, server);
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    if (auto found = FindLocked(key)) return found;
    generation = generation_;
    ++loads_;
  }
  absl::StatusOr<storage::ServerPolicy> loaded =
      store_.Load(project_key, server, deadline);
  if (!loaded.ok()) return loaded.status();
  auto entry = std::make_shared<CachedServerPolicy>();
  if (loaded->policy.has_value()) {
    auto compiled = CompileToolPolicy(*loaded->policy, "");
    if (!compiled.ok()) {
      // Stored policies were compiled when set; failing now means the
      // limits changed under them. Deny rather than guess.
      return absl::FailedPreconditionError(
          absl::StrCat("the stored policy of ", loaded->display_name,
                       " no longer compiles: ", compiled.status().message()));
    }
    entry->compiled = std::move(*compiled);
  }
  entry->server = std::move(*loaded);
  absl::MutexLock lock(&mu_);
  if (usable_ && generation == generation_) {
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_[key] = entry;
  }
  return std::shared_ptr<const CachedServerPolicy>(std::move(entry));
}

void PolicyCache::Invalidate(int64_t server_id) {
  absl::MutexLock lock(&mu_);
  ++generation_;
  absl::erase_if(entries_, [server_id](const auto& kv) {
    return kv.second->server.server_id == server_id;
  });
}

void PolicyCache::InvalidateRevision(int64_t server_id, int64_t revision) {
  absl::MutexLock lock(&mu_);
  const size_t before = entries_.size();
  absl::erase_if(entries_, [server_id, revision](const auto& kv) {
    return kv.second->server.server_id == server_id &&
           kv.second->server.policy_revision == revision;
  });
  if (entries_.size() != before) ++generation_;
}

void PolicyCache::InvalidatePayload(const std::string& payload) {
  int64_t id = 0;
  if (absl::SimpleAtoi(payload, &id)) {
    Invalidate(id);
  } else {
    Reset(true);  // not ours to understand: start over
  }
}

void PolicyCache::Reset(bool usable) {
  absl::MutexLock lock(&mu_);
  ++generation_;
  entries_.clear();
  usable_ = usable;
}

int64_t PolicyCache::hits() const {
  absl::MutexLock lock(&mu_);
  return hits_;
}

int64_t PolicyCache::loads() const {
  absl::MutexLock lock(&mu_);
  return loads_;
}

}  // namespace mcpreg
