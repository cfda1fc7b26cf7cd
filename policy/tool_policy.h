// A server's tool policy, compiled: which tool calls a caller may make.
// Zero trust — without a policy no tool is allowed. Entries are exact names or
// RE2 patterns matched against the whole name, optionally with conditions on
// the call's arguments; patterns compile when the policy is set, never at call
// time, and RE2 runs in linear time (no ReDoS).
#ifndef MCPREG_POLICY_TOOL_POLICY_H_
#define MCPREG_POLICY_TOOL_POLICY_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace mcpreg::policy {

namespace internal {
class ArgumentIndex;  // argument_conditions.h
class ConditionSet;
}  // namespace internal

enum class Mode {
  kAllowAll,   // every tool, today's and tomorrow's
  kAllowList,  // only tools matching an entry
  kDenyList,   // every tool except those matching an entry
};

// A test on one value of a call's arguments (docs/policies.md).
struct ArgumentCondition {
  enum class Kind {
    kMatches,  // a string, matching `pattern` as a whole (RE2)
    kOneOf,    // equal to one of `one_of` (scalars)
    kRange,    // a number within [min, max] (either bound optional)
    kAbsent,   // not there at all
  };
  std::string pointer;  // RFC 6901 JSON Pointer into the arguments object
  Kind kind = Kind::kAbsent;
  std::string pattern;
  std::vector<google::protobuf::Value> one_of;
  std::optional<double> min;
  std::optional<double> max;
};

struct Entry {
  std::string pattern;
  bool is_regex = false;                      // false: the exact tool name
  std::vector<ArgumentCondition> conditions;  // all must hold
};

// Limits, documented in docs/policies.md.
inline constexpr size_t kMaxEntries = 500;
inline constexpr size_t kMaxPatternBytes = 1024;
inline constexpr size_t kMaxToolNameBytes = 256;
// RE2's memory budget for one compiled pattern; larger ones are refused.
inline constexpr int64_t kMaxPatternProgramBytes = 256 << 10;
inline constexpr size_t kMaxConditionsPerEntry = 16;
inline constexpr size_t kMaxPointerBytes = 512;
inline constexpr size_t kMaxOneOfValues = 100;

struct Decision {
  bool allowed = false;
  // Names the entry and condition, never an argument's value (values can be
  // secrets; the audit log records reasons).
  std::string reason;
  // The entry that decided, or -1. When no entry matched a call but some
  // matched its name, the lowest of those, with its first condition that
  // did not hold; a deny entry that matched only because a value had the
  // wrong type names that condition.
  int entry_index = -1;
  int condition_index = -1;  // the condition of that entry that decided
};

class CompiledPolicy {
 public:
  // INVALID_ARGUMENT naming `field_prefix` + "entries[i].pattern" for an
  // empty, oversized, non-UTF-8 or invalid pattern, or too many entries, and
  // "entries[i].conditions[j]" (+ ".pointer", ".matches", ...) for a bad
  // pointer, a bad pattern, an empty set, min > max, or conditions that
  // contradict each other.
  static absl::StatusOr<std::shared_ptr<const CompiledPolicy>> Compile(
      Mode mode, const std::vector<Entry>& entries,
      absl::string_view field_prefix = "");

  // The decision for one call of `tool` with `arguments` (null: none, as an
  // empty object). The lowest-index entry whose name and conditions all
  // match decides. A value that is missing or of the wrong type never makes
  // an allow entry match; in a deny entry a value of the wrong type does
  // (fail closed).
  Decision Check(absl::string_view tool,
                 const google::protobuf::Struct* arguments = nullptr) const;

  // Whether some call of `tool` may be allowed, for filtering tools/list:
  // like Check, except that an entry with conditions is assumed to allow
  // (allow list) or not to deny (deny list).
  bool MayList(absl::string_view tool) const;

  ~CompiledPolicy();

  Mode mode() const { return mode_; }
  size_t entry_count() const { return entries_.size(); }

  // Makes every pattern match fail as RE2 fails when it runs out of memory,
  // for the test that such a failure denies. Not for production use.
  static void FailMatchingForTesting(bool fail);
  // Makes every run of a set of argument patterns (one per pointer tested
  // with several patterns) fail the same way, for the test that the
  // decision does not change; and how many runs it failed since it was
  // last set. Not for production use.
  static void FailConditionSetsForTesting(bool fail);
  static int ConditionSetsFailedForTesting();

 private:
  // A set of entries, one bit each: iterated in entry order with no sort
  // (a policy may name one tool a hundred times). EntryWords: the same,
  // as its non-zero words only, ascending (word index, bits).
  using EntrySet = std::array<uint64_t, (kMaxEntries + 63) / 64>;
  using EntryWords = std::vector<std::pair<int, uint64_t>>;
  static void AddEntry(int entry, EntryWords* words);
  static void AddAll(const EntryWords& words, EntrySet* set);

  CompiledPolicy(Mode mode, std::vector<Entry> entries);
  // The entries whose name part matches `tool`, into `*out` (its words for
  // entries_ only); false when the patterns could not be evaluated.
  bool MatchingEntries(absl::string_view tool, EntrySet* out) const;

  Mode mode_;
  std::vector<Entry> entries_;
  // name -> the exact entries for it.
  absl::flat_hash_map<std::string, EntryWords> exact_;
  // Each distinct pattern once, anchored at both ends; set index -> the
  // entries with that pattern.
  std::unique_ptr<RE2::Set> regexes_;
  std::vector<EntryWords> regex_entries_;
  std::vector<internal::ConditionSet> conditions_;  // by entry index
  // What conditions_ share across entries: pointers, pattern sets.
  std::unique_ptr<const internal::ArgumentIndex> arguments_;
};

// The zero-trust answer for a server without a policy.
Decision NoPolicyDecision();

// "ALLOW_ALL", "ALLOW_LIST", "DENY_LIST".
absl::string_view ModeName(Mode mode);

}  // namespace mcpreg::policy

#endif  // MCPREG_POLICY_TOOL_POLICY_H_
