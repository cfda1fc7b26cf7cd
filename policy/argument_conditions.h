// One policy entry's argument conditions, compiled: JSON Pointers parsed into
// tokens, patterns into RE2 programs and value sets into lookup tables when
// the policy is set, so that checking a call parses nothing and allocates
// nothing. Internal to the policy library (tool_policy.h is the API).
#ifndef MCPREG_POLICY_ARGUMENT_CONDITIONS_H_
#define MCPREG_POLICY_ARGUMENT_CONDITIONS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "policy/tool_policy.h"
#include "re2/re2.h"

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
  ArgumentCondition::Kind kind = ArgumentCondition::Kind::kAbsent;
  std::vector<PointerToken> tokens;    // empty: the arguments object itself
  std::unique_ptr<const RE2> pattern;  // kMatches
  // kOneOf, by the kind of value; a value of a kind the set does not hold
  // has the wrong type.
  absl::flat_hash_set<std::string> strings;
  std::vector<double> numbers;
  bool has_strings = false, has_numbers = false, has_true = false,
       has_false = false, has_bools = false, has_null = false;
  double min = 0, max = 0;  // kRange, with infinities for missing bounds
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

  // The index of the first condition that does not hold for `arguments`, or
  // -1 when all hold. `deny`: a value of the wrong type holds, since a deny
  // entry must not be dodged by sending "5" for 5 (fail closed). When all
  // hold, `*wrong_type` is the first condition that held only that way, or
  // -1.
  int FirstFailing(const google::protobuf::Struct& arguments, bool deny,
                   int* wrong_type) const;

  const std::string& Describe(int i) const {
    return conditions_[i].description;
  }

 private:
  std::vector<CompiledCondition> conditions_;
};

// Exposed for tests: the value `tokens` points to in `arguments`. False when
// it does not resolve; `*value` is null for the arguments object itself.
bool Resolve(const std::vector<PointerToken>& tokens,
             const google::protobuf::Struct& arguments,
             const google::protobuf::Value** value);

Outcome Evaluate(const CompiledCondition& condition,
                 const google::protobuf::Struct& arguments);

}  // namespace mcpreg::policy::internal

#endif  // MCPREG_POLICY_ARGUMENT_CONDITIONS_H_
