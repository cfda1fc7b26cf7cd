// A server's tool policy, compiled: which tool names a caller may use.
// Zero trust — without a policy no tool is allowed. Entries are exact names or
// RE2 patterns matched against the whole name; patterns compile when the
// policy is set, never at call time, and RE2 runs in linear time (no ReDoS).
#ifndef MCPREG_POLICY_TOOL_POLICY_H_
#define MCPREG_POLICY_TOOL_POLICY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace mcpreg::policy {

enum class Mode {
  kAllowAll,   // every tool, today's and tomorrow's
  kAllowList,  // only tools matching an entry
  kDenyList,   // every tool except those matching an entry
};

struct Entry {
  std::string pattern;
  bool is_regex = false;  // false: the exact tool name
};

// Limits, documented in docs/policies.md.
inline constexpr size_t kMaxEntries = 500;
inline constexpr size_t kMaxPatternBytes = 1024;
inline constexpr size_t kMaxToolNameBytes = 256;
// RE2's memory budget for one compiled pattern; larger ones are refused.
inline constexpr int64_t kMaxPatternProgramBytes = 256 << 10;

struct Decision {
  bool allowed = false;
  std::string reason;
  int entry_index = -1;  // the entry that decided, or -1
};

class CompiledPolicy {
 public:
  // INVALID_ARGUMENT naming `field_prefix` + "entries[i].pattern" for an
  // empty, oversized, non-UTF-8 or invalid pattern, or too many entries.
  static absl::StatusOr<std::shared_ptr<const CompiledPolicy>> Compile(
      Mode mode, const std::vector<Entry>& entries,
      absl::string_view field_prefix = "");

  // The decision for one tool. The lowest-index matching entry decides.
  Decision Check(absl::string_view tool) const;

  Mode mode() const { return mode_; }
  size_t entry_count() const { return entries_.size(); }

  // Makes every pattern match fail as RE2 fails when it runs out of memory,
  // for the test that such a failure denies. Not for production use.
  static void FailMatchingForTesting(bool fail);

 private:
  CompiledPolicy(Mode mode, std::vector<Entry> entries)
      : mode_(mode), entries_(std::move(entries)) {}
  // Index of the first entry matching `tool`, -1 for none, or kMatchFailed
  // when the patterns could not be evaluated.
  static constexpr int kMatchFailed = -2;
  int FirstMatch(absl::string_view tool) const;

  Mode mode_;
  std::vector<Entry> entries_;
  absl::flat_hash_map<std::string, int> exact_;  // name -> lowest index
  std::unique_ptr<RE2::Set> regexes_;            // anchored at both ends
  std::vector<int> regex_entry_;                 // set index -> entry index
};

// The zero-trust answer for a server without a policy.
Decision NoPolicyDecision();

// "ALLOW_ALL", "ALLOW_LIST", "DENY_LIST".
absl::string_view ModeName(Mode mode);

}  // namespace mcpreg::policy

#endif  // MCPREG_POLICY_TOOL_POLICY_H_
