// One policy entry's argument conditions, compiled: JSON Pointers parsed into
// tokens, patterns into RE2 programs and value sets into lookup tables when
// the policy is set, so that checking a call parses nothing; and what the
// entries share (ArgumentIndex: each pointer resolved once per call, its
// patterns in one RE2::Set). Checking a call allocates nothing unless a
// pattern set runs (RE2 allocates its answer) or the policy shares more than
// 8 pointers. Internal to the policy library (tool_policy.h is the API).
#ifndef MCPREG_POLICY_ARGUMENT_CONDITIONS_H_
#define MCPREG_POLICY_ARGUMENT_CONDITIONS_H_

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "policy/tool_policy.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace mcpreg::policy::internal {

bool IsValidUtf8(absl::string_view s);

// What every policy pattern compiles with: UTF-8, kMaxPatternProgramBytes.
RE2::Options PatternOptions();

// A policy pattern's text: non-empty, at most kMaxPatternBytes, UTF-8; else
// INVALID_ARGUMENT naming `field`. Exact tool names are checked the same way.
absl::Status CheckPatternText(absl::string_view pattern,
                              absl::string_view field);

// CheckPatternText, and then a valid RE2 within its memory budget.
absl::StatusOr<std::unique_ptr<const RE2>> CompilePattern(
    const std::string& pattern, absl::string_view field);

// One reference token of an RFC 6901 JSON Pointer, unescaped.
struct PointerToken {
  std::string key;  // the member name, when the parent is an object
  // The element, when the parent is an array: -1 when the token is not an
  // array index ("-", "01", "x"); too large to exist when it has too many
  // digits to parse.
  int64_t index = -1;
};

// A condition ready to evaluate.
struct CompiledCondition {
  // What every call reads first, together in one cache line.
  ArgumentCondition::Kind kind = ArgumentCondition::Kind::kAbsent;
  // Set by ArgumentIndex. `slot`: where a call keeps what its pointer
  // resolved to, when other conditions of the policy test the same pointer;
  // -1 when none does. `member` (kMatches with a slot): the pattern's index
  // among the distinct patterns tested on that pointer.
  int slot = -1;
  int member = -1;
  double min = 0, max = 0;  // kRange, with infinities for missing bounds
  std::vector<PointerToken> tokens;    // empty: the arguments object itself
  std::unique_ptr<const RE2> pattern;  // kMatches
  // kOneOf, by the kind of value; a value of a kind the set does not hold
  // has the wrong type.
  bool has_strings = false, has_numbers = false, has_true = false,
       has_false = false, has_bools = false, has_null = false;
  absl::flat_hash_set<std::string> strings;
  std::vector<double> numbers;
  // "'/path' matches '...'": for reasons, naming no argument value.
  std::string description;
};

// What one condition found in a call's arguments.
enum class Outcome {
  kHolds,
  kFails,      // the value is there, of the right type, and does not fit
  kMissing,    // the pointer does not resolve
  kWrongType,  // the value is there but of the wrong type for the test
};

class ArgumentCache;

// Exposed for tests: the value `tokens` points to in `arguments`. False when
// it does not resolve; `*value` is null for the arguments object itself.
bool Resolve(const std::vector<PointerToken>& tokens,
             const google::protobuf::Struct& arguments,
             const google::protobuf::Value** value);

// A kOneOf condition's outcome for `v`.
Outcome EvaluateOneOf(const CompiledCondition& c,
                      const google::protobuf::Value& v);

// A condition's outcome once its pointer is resolved (`found`, `v`, as
// Resolve gives them), with `full_match(string)` for kMatches.
template <typename FullMatchFn>
inline Outcome EvaluateResolved(const CompiledCondition& c, bool found,
                                const google::protobuf::Value* v,
                                FullMatchFn&& full_match) {
  using Kind = ArgumentCondition::Kind;
  using ::google::protobuf::Value;
  // A missing value is missing for every test but kAbsent; the arguments
  // object itself (v null) has the wrong type for every other.
  switch (c.kind) {
    case Kind::kAbsent:
      return found ? Outcome::kFails : Outcome::kHolds;
    case Kind::kMatches:
      if (!found) return Outcome::kMissing;
      if (v == nullptr || v->kind_case() != Value::kStringValue) {
        return Outcome::kWrongType;
      }
      return full_match(v->string_value()) ? Outcome::kHolds : Outcome::kFails;
    case Kind::kOneOf:
      if (!found) return Outcome::kMissing;
      if (v == nullptr) return Outcome::kWrongType;
      return EvaluateOneOf(c, *v);
    case Kind::kRange:
      if (!found) return Outcome::kMissing;
      // NaN cannot come from JSON; were it there, it is no number to range.
      if (v == nullptr || v->kind_case() != Value::kNumberValue ||
          std::isnan(v->number_value())) {
        return Outcome::kWrongType;
      }
      return v->number_value() >= c.min && v->number_value() <= c.max
                 ? Outcome::kHolds
                 : Outcome::kFails;
  }
  return Outcome::kFails;
}

class ConditionSet {
 public:
  ConditionSet() = default;
  ConditionSet(ConditionSet&&) = default;
  ConditionSet& operator=(ConditionSet&&) = default;

  // INVALID_ARGUMENT naming `field` (e.g. "policy.entries[2].conditions")
  // plus "[j].pointer", "[j].matches", "[j].oneOf[k]", "[j].range" or
  // "[j].absent", or `field` itself for too many or conflicting conditions.
  static absl::StatusOr<ConditionSet> Compile(
      const std::vector<ArgumentCondition>& conditions,
      absl::string_view field);

  bool empty() const { return conditions_.empty(); }

  // The index of the first condition that does not hold for the call's
  // arguments, or -1 when all hold. `deny`: a value of the wrong type holds,
  // since a deny entry must not be dodged by sending "5" for 5 (fail closed).
  // When all hold, `*wrong_type` is the first condition that held only that
  // way, or -1.
  int FirstFailing(ArgumentCache& arguments, bool deny, int* wrong_type) const;

  const std::string& Describe(int i) const {
    return conditions_[i].description;
  }

 private:
  friend class ArgumentIndex;
  std::vector<CompiledCondition> conditions_;
};

// What a policy's conditions share across its entries: a pointer tested by
// several conditions gets a slot, so that a call resolves it once, and a
// pointer tested with several distinct patterns also gets one RE2::Set of
// them (anchored at both ends, PatternOptions()), so that a call runs one
// match for them all instead of one per entry. Policies with many entries
// for one tool, each with its own pattern for the same value, thus cost one
// set match rather than one RE2 match per entry.
class ArgumentIndex {
 public:
  // Numbers the slots and members of the conditions in `entries` and builds
  // the sets. Never fails: patterns too large to share one set are matched
  // one by one, as without the index.
  explicit ArgumentIndex(std::vector<ConditionSet>* entries);

  size_t slot_count() const { return slots_.size(); }
  // Whether `slot`'s patterns are matched with one RE2::Set.
  bool has_set(int slot) const { return slots_[slot].set != nullptr; }

 private:
  friend class ArgumentCache;
  struct Slot {
    std::unique_ptr<RE2::Set> set;  // null: the patterns are matched alone
    int members = 0;                // distinct patterns on the pointer
    int first_word = 0;             // of its hits in ArgumentCache::words_
  };
  std::vector<Slot> slots_;
  int words_ = 0;
};

// One call's arguments as a policy's conditions see them, for one Check on
// the caller's stack: each pointer with a slot resolved at most once, and
// each pointer's pattern set run at most once, lazily. The first two
// distinct patterns tested on a pointer are matched alone (a call often
// tests just one or two); the set runs when a third is tested, and then
// answers every pattern on that pointer. Should the set fail to run (RE2's DFA
// out of memory), the patterns on that pointer are matched one by one for the
// rest of the call: RE2 matching alone does not fail, so the decision is the
// one the set would have given.
class ArgumentCache {
 public:
  ArgumentCache(const ArgumentIndex& index,
                const google::protobuf::Struct& arguments)
      : index_(index), arguments_(arguments) {}
  ArgumentCache(const ArgumentCache&) = delete;
  ArgumentCache& operator=(const ArgumentCache&) = delete;

  // Before Evaluate: makes the slots when first needed.
  void Prepare() {
    if (slots_ == nullptr) SizeSlots();
  }

  // Inline, with the work of a slot's first use out of line: a policy may
  // test a hundred entries' conditions for one call.
  Outcome Evaluate(const CompiledCondition& c) {
    if (c.slot < 0) return EvaluateAlone(c);
    SlotState& state = slots_[c.slot];
    if (state.resolved == Resolved::kNotYet) ResolveSlot(c, state);
    return EvaluateResolved(
        c, state.resolved == Resolved::kFound, state.value,
        [&](const std::string& s) {
          if (c.member >= 0 && state.matched == Matched::kSet) {
            const auto m = static_cast<unsigned>(c.member);
            return ((state.hits[m / 64] >> (m % 64)) & 1) != 0;
          }
          return FullMatch(c, state, s);
        });
  }

 private:
  enum class Resolved : uint8_t { kNotYet, kMissing, kFound };
  enum class Matched : uint8_t {
    kAlone,      // patterns matched one by one, so far (see kAloneBeforeSet)
    kSet,        // the set ran; `hits` has a bit for each pattern
    kOnlyAlone,  // no set, or it could not run: one by one for the call
  };
  // Distinct patterns on one pointer matched alone before its set runs: a
  // set match costs about two or three single ones (the set's DFA, and RE2
  // allocating for its answer), and most calls test one or two.
  static constexpr int kAloneBeforeSet = 2;
  struct SlotState {
    const google::protobuf::Value* value = nullptr;  // when kFound
    Resolved resolved = Resolved::kNotYet;
    Matched matched = Matched::kAlone;
    uint8_t alone = 0;  // patterns matched alone and remembered
    bool alone_result[kAloneBeforeSet] = {};
    int alone_member[kAloneBeforeSet] = {};
    const uint64_t* hits = nullptr;  // into words_
  };

  Outcome EvaluateAlone(const CompiledCondition& c);
  void SizeSlots();
  void ResolveSlot(const CompiledCondition& c, SlotState& state);
  // `s` is the string at `c`'s pointer: the same for every condition that
  // shares `state` during a call.
  bool FullMatch(const CompiledCondition& c, SlotState& state,
                 const std::string& s);
  // Runs `slot`'s set on `s` into `words_`; false when it could not run.
  bool RunSet(int slot, const std::string& s);

  const ArgumentIndex& index_;
  const google::protobuf::Struct& arguments_;
  // Storage on the stack for a few slots and hits, on the heap for more;
  // nothing is initialized until used (a call may be decided by name).
  static constexpr size_t kInline = 8;
  static_assert(std::is_trivially_destructible_v<SlotState>);
  SlotState* slots_ = nullptr;  // sized on first use
  uint64_t* words_ = nullptr;   // sized when a set first runs
  alignas(SlotState) unsigned char inline_slots_[kInline * sizeof(SlotState)];
  uint64_t inline_words_[kInline];
  std::unique_ptr<SlotState[]> heap_slots_;
  std::unique_ptr<uint64_t[]> heap_words_;
  std::vector<int> hits_;
};

inline int ConditionSet::FirstFailing(ArgumentCache& arguments, bool deny,
                                      int* wrong_type) const {
  arguments.Prepare();
  // By pointer: an index into conditions_ costs a multiplication (its
  // elements are not a power of two in size), its size a division.
  const CompiledCondition* const begin = conditions_.data();
  const CompiledCondition* const end = begin + conditions_.size();
  const CompiledCondition* wrong = nullptr;
  for (const CompiledCondition* c = begin; c != end; ++c) {
    const Outcome o = arguments.Evaluate(*c);
    if (o == Outcome::kHolds) continue;
    if (deny && o == Outcome::kWrongType) {
      if (wrong == nullptr) wrong = c;
      continue;
    }
    *wrong_type = -1;
    return static_cast<int>(c - begin);
  }
  *wrong_type = wrong != nullptr ? static_cast<int>(wrong - begin) : -1;
  return -1;
}

// Makes every pattern set run fail as RE2 fails when its DFA runs out of
// memory; and how many runs it failed since. Not for production use.
void FailConditionSetsForTesting(bool fail);
int ConditionSetsFailedForTesting();

// One condition alone, resolving its pointer.
Outcome Evaluate(const CompiledCondition& condition,
                 const google::protobuf::Struct& arguments);

}  // namespace mcpreg::policy::internal

#endif  // MCPREG_POLICY_ARGUMENT_CONDITIONS_H_
