#include "plugin/src/governance/policy_cache.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mcpreg {
namespace {

// The one test `c` names, for the policy library; INVALID_ARGUMENT naming
// `field` when it names none or several.
// Policies are stored as jsonb, which cannot hold U+0000.
absl::Status RefuseNul(absl::string_view text, const std::string& field) {
  if (text.find('\0') == absl::string_view::npos) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": must not contain U+0000"));
}

absl::StatusOr<policy::ArgumentCondition> ToCondition(
    const v1::ArgumentCondition& c, const std::string& field) {
  if (absl::Status s = RefuseNul(c.pointer(), field + ".pointer"); !s.ok()) {
    return s;
  }
  if (absl::Status s = RefuseNul(c.matches(), field + ".matches"); !s.ok()) {
    return s;
  }
  for (int k = 0; k < c.one_of_size(); ++k) {
    if (absl::Status s = RefuseNul(c.one_of(k).string_value(),
                                   absl::StrCat(field, ".oneOf[", k, "]"));
        !s.ok()) {
      return s;
    }
  }
  policy::ArgumentCondition out;
  out.pointer = c.pointer();
  int kinds = 0;
  if (c.has_matches()) {
    out.kind = policy::ArgumentCondition::Kind::kMatches;
    out.pattern = c.matches();
    ++kinds;
  }
  if (c.one_of_size() > 0) {
    out.kind = policy::ArgumentCondition::Kind::kOneOf;
    out.one_of.assign(c.one_of().begin(), c.one_of().end());
    ++kinds;
  }
  if (c.has_range()) {
    out.kind = policy::ArgumentCondition::Kind::kRange;
    if (c.range().has_min()) out.min = c.range().min();
    if (c.range().has_max()) out.max = c.range().max();
    ++kinds;
  }
  if (c.absent()) {
    out.kind = policy::ArgumentCondition::Kind::kAbsent;
    ++kinds;
  }
  if (kinds != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": give exactly one of matches, oneOf, range and absent (got ",
        kinds, ")"));
  }
  return out;
}

}  // namespace

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
  if (p.trust_on_first_use() && !p.pin_definitions()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field_prefix, "trustOnFirstUse: only applies with pinDefinitions"));
  }
  std::vector<policy::Entry> entries;
  entries.reserve(p.entries_size());
  for (int i = 0; i < p.entries_size(); ++i) {
    const v1::ToolPolicyEntry& e = p.entries(i);
    if (absl::Status s =
            RefuseNul(e.pattern(),
                      absl::StrCat(field_prefix, "entries[", i, "].pattern"));
        !s.ok()) {
      return s;
    }
    policy::Entry entry{e.pattern(), e.is_regex(), {}};
    for (int j = 0; j < e.conditions_size(); ++j) {
      absl::StatusOr<policy::ArgumentCondition> condition = ToCondition(
          e.conditions(j),
          absl::StrCat(field_prefix, "entries[", i, "].conditions[", j, "]"));
      if (!condition.ok()) return condition.status();
      entry.conditions.push_back(*std::move(condition));
    }
    entries.push_back(std::move(entry));
  }
  return policy::CompiledPolicy::Compile(mode, entries, field_prefix);
}

bool CachedServerPolicy::IsApproved(absl::string_view tool,
                                    absl::string_view digest) const {
  return approved.contains(DefinitionKey(tool, digest));
}

void CachedServerPolicy::IndexDefinitions() {
  for (const auto& [tool, digest] : server.definitions) {
    recorded.insert(DefinitionKey(tool, digest));
    ++definitions_per_tool[tool];
  }
  ever_approved_tools.insert(server.tools_ever_approved.begin(),
                             server.tools_ever_approved.end());
  for (const auto& [tool, digest] : server.approved_definitions) {
    approved.insert(DefinitionKey(tool, digest));
  }
  for (const auto& [version, tool, digest] : server.definition_sightings) {
    sightings.insert(absl::StrCat(version, "\n", DefinitionKey(tool, digest)));
  }
}

std::string DefinitionKey(absl::string_view tool, absl::string_view digest) {
  // Tool names have no control characters (CheckToolName).
  return absl::StrCat(tool, "\n", digest);
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
  entry->IndexDefinitions();
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
