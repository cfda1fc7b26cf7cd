#include "policy/argument_conditions.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mcpreg::policy::internal {
namespace {

using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using Kind = ArgumentCondition::Kind;

// The JSON member name of each kind, as the REST user wrote it.
absl::string_view KindField(Kind kind) {
  switch (kind) {
    case Kind::kMatches:
      return "matches";
    case Kind::kOneOf:
      return "oneOf";
    case Kind::kRange:
      return "range";
    case Kind::kAbsent:
      return "absent";
  }
  return "?";
}

// How a conflict message words a test: "'/p' must be absent and also ...".
absl::string_view KindVerb(Kind kind) {
  switch (kind) {
    case Kind::kMatches:
      return "matched";
    case Kind::kOneOf:
      return "one of a set";
    case Kind::kRange:
      return "in a range";
    case Kind::kAbsent:
      return "absent";
  }
  return "?";
}

// Shortest round-trip digits: a bound reads back as the policy wrote it.
std::string FormatNumber(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  if (ec != std::errc()) return absl::StrCat(d);
  return std::string(buf, end);
}

// An RFC 6901 reference token that is an array index: "0" or decimal digits
// without a leading zero. -1 otherwise ("-", the end of an array, never
// resolves to a value).
int64_t ArrayIndex(absl::string_view token) {
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return -1;
  for (char c : token) {
    if (c < '0' || c > '9') return -1;
  }
  int64_t index = 0;
  if (!absl::SimpleAtoi(token, &index)) {
    return std::numeric_limits<int64_t>::max();  // digits, but beyond any list
  }
  return index;
}

absl::StatusOr<std::vector<PointerToken>> ParsePointer(
    const std::string& pointer, absl::string_view field) {
  if (pointer.size() > kMaxPointerBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxPointerBytes, " bytes (got ",
                     pointer.size(), ")"));
  }
  if (!IsValidUtf8(pointer)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": is not valid UTF-8"));
  }
  std::vector<PointerToken> tokens;
  if (pointer.empty()) return tokens;  // the arguments object itself
  if (pointer[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must start with '/' (RFC 6901 JSON Pointer)"));
  }
  for (size_t i = 0; i < pointer.size();) {
    ++i;  // past the '/'
    PointerToken token;
    for (; i < pointer.size() && pointer[i] != '/'; ++i) {
      if (pointer[i] != '~') {
        token.key.push_back(pointer[i]);
        continue;
      }
      const char next = i + 1 < pointer.size() ? pointer[i + 1] : '\0';
      if (next != '0' && next != '1') {
        return absl::InvalidArgumentError(absl::StrCat(
            field,
            ": '~' must be followed by 0 or 1 (RFC 6901 JSON Pointer: ~0 "
            "is '~', ~1 is '/')"));
      }
      token.key.push_back(next == '0' ? '~' : '/');
      ++i;
    }
    token.index = ArrayIndex(token.key);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

bool SamePath(const std::vector<PointerToken>& a,
              const std::vector<PointerToken>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key) return false;
  }
  return true;
}

// Whether `inner` is `outer` or below it.
bool AtOrBelow(const std::vector<PointerToken>& inner,
               const std::vector<PointerToken>& outer) {
  if (inner.size() < outer.size()) return false;
  for (size_t i = 0; i < outer.size(); ++i) {
    if (inner[i].key != outer[i].key) return false;
  }
  return true;
}

// The fields of `c` other than its kind's must be unset: with `kind`
// defaulting to kAbsent, a caller that forgot to set it would otherwise turn
// a "matches" into an "absent" without a word.
bool HasOnlyItsKind(const ArgumentCondition& c) {
  const bool pattern = !c.pattern.empty(), one_of = !c.one_of.empty(),
             range = c.min.has_value() || c.max.has_value();
  switch (c.kind) {
    case Kind::kMatches:
      return !one_of && !range;
    case Kind::kOneOf:
      return !pattern && !range;
    case Kind::kRange:
      return !pattern && !one_of;
    case Kind::kAbsent:
      return !pattern && !one_of && !range;
  }
  return false;
}

absl::Status CompileOneOf(const ArgumentCondition& c, absl::string_view field,
                          CompiledCondition* out) {
  if (c.one_of.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": needs at least one value"));
  }
  if (c.one_of.size() > kMaxOneOfValues) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxOneOfValues, " values (got ",
                     c.one_of.size(), ")"));
  }
  for (size_t k = 0; k < c.one_of.size(); ++k) {
    const Value& v = c.one_of[k];
    switch (v.kind_case()) {
      case Value::kStringValue:
        out->has_strings = true;
        out->strings.insert(v.string_value());
        break;
      case Value::kNumberValue:
        // JSON has no NaN or infinity; a NaN would never be equal anyway.
        if (!std::isfinite(v.number_value())) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, "[", k, "]: must be a finite number"));
        }
        out->has_numbers = true;
        out->numbers.push_back(v.number_value());
        break;
      case Value::kBoolValue:
        out->has_bools = true;
        (v.bool_value() ? out->has_true : out->has_false) = true;
        break;
      case Value::kNullValue:
        out->has_null = true;
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            field, "[", k, "]: must be a string, number, boolean or null"));
    }
  }
  out->description =
      absl::StrCat(out->description, " is one of ", c.one_of.size(),
                   c.one_of.size() == 1 ? " value" : " values");
  return absl::OkStatus();
}

absl::Status CompileRange(const ArgumentCondition& c, absl::string_view field,
                          CompiledCondition* out) {
  if (!c.min.has_value() && !c.max.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": needs min, max or both"));
  }
  if ((c.min && !std::isfinite(*c.min)) || (c.max && !std::isfinite(*c.max))) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": min and max must be finite numbers"));
  }
  if (c.min && c.max && *c.min > *c.max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": min is greater than max"));
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  out->min = c.min.value_or(-kInf);
  out->max = c.max.value_or(kInf);
  if (c.min && c.max) {
    absl::StrAppend(&out->description, " is a number within [",
                    FormatNumber(*c.min), ", ", FormatNumber(*c.max), "]");
  } else if (c.min) {
    absl::StrAppend(&out->description,
                    " is a number >= ", FormatNumber(*c.min));
  } else {
    absl::StrAppend(&out->description,
                    " is a number <= ", FormatNumber(*c.max));
  }
  return absl::OkStatus();
}

absl::StatusOr<CompiledCondition> CompileOne(const ArgumentCondition& c,
                                             absl::string_view field) {
  CompiledCondition out;
  out.kind = c.kind;
  if (!HasOnlyItsKind(c)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": exactly one of matches, oneOf, range and absent"));
  }
  auto tokens = ParsePointer(c.pointer, absl::StrCat(field, ".pointer"));
  if (!tokens.ok()) return tokens.status();
  out.tokens = *std::move(tokens);
  out.description = absl::StrCat("'", c.pointer, "'");
  const std::string kind_field = absl::StrCat(field, ".", KindField(c.kind));
  switch (c.kind) {
    case Kind::kMatches: {
      auto re = CompilePattern(c.pattern, kind_field);
      if (!re.ok()) return re.status();
      out.pattern = *std::move(re);
      absl::StrAppend(&out.description, " matches '", c.pattern, "'");
      break;
    }
    case Kind::kOneOf:
      if (absl::Status s = CompileOneOf(c, kind_field, &out); !s.ok()) {
        return s;
      }
      break;
    case Kind::kRange:
      if (absl::Status s = CompileRange(c, kind_field, &out); !s.ok()) {
        return s;
      }
      break;
    case Kind::kAbsent:
      // Null arguments count as an empty object: "" always resolves, so the
      // condition could never hold.
      if (out.tokens.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            kind_field, ": the arguments object itself ('') is never absent"));
      }
      absl::StrAppend(&out.description, " is absent");
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": unknown kind of condition"));
  }
  return out;
}

// Conditions that contradict each other or repeat: an entry that can never
// match is a mistake the admin should hear about when setting the policy.
absl::Status CheckConflicts(const std::vector<ArgumentCondition>& conditions,
                            const std::vector<CompiledCondition>& compiled,
                            absl::string_view field) {
  for (size_t i = 0; i < compiled.size(); ++i) {
    for (size_t j = 0; j < compiled.size(); ++j) {
      if (i == j) continue;
      const CompiledCondition& a = compiled[i];
      const CompiledCondition& b = compiled[j];
      if (i < j && a.kind == b.kind && SamePath(a.tokens, b.tokens)) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ": conflicting conditions: '", conditions[i].pointer,
            "' is tested with '", KindField(a.kind), "' twice"));
      }
      if (a.kind != Kind::kAbsent || b.kind == Kind::kAbsent ||
          !AtOrBelow(b.tokens, a.tokens)) {
        continue;
      }
      if (SamePath(a.tokens, b.tokens)) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ": conflicting conditions: '", conditions[i].pointer,
            "' must be absent and also ", KindVerb(b.kind)));
      }
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": conflicting conditions: '",
                       conditions[i].pointer, "' must be absent and '",
                       conditions[j].pointer, "' also ", KindVerb(b.kind)));
    }
  }
  return absl::OkStatus();
}

std::atomic<bool> fail_sets_for_testing{false};
std::atomic<int> sets_failed_for_testing{0};

}  // namespace

void FailConditionSetsForTesting(bool fail) {
  sets_failed_for_testing.store(0);
  fail_sets_for_testing.store(fail);
}

int ConditionSetsFailedForTesting() { return sets_failed_for_testing.load(); }

Outcome EvaluateOneOf(const CompiledCondition& c, const Value& v) {
  switch (v.kind_case()) {
    case Value::kStringValue:
      if (!c.has_strings) return Outcome::kWrongType;
      return c.strings.contains(v.string_value()) ? Outcome::kHolds
                                                  : Outcome::kFails;
    case Value::kNumberValue:
      if (!c.has_numbers) return Outcome::kWrongType;
      for (double d : c.numbers) {
        if (d == v.number_value()) return Outcome::kHolds;
      }
      return Outcome::kFails;
    case Value::kBoolValue:
      if (!c.has_bools) return Outcome::kWrongType;
      return (v.bool_value() ? c.has_true : c.has_false) ? Outcome::kHolds
                                                         : Outcome::kFails;
    case Value::kNullValue:
      return c.has_null ? Outcome::kHolds : Outcome::kWrongType;
    default:
      return Outcome::kWrongType;  // an object, an array, or no value
  }
}

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80           ? 1
               : (c >> 5) == 0x6  ? 2
               : (c >> 4) == 0xe  ? 3
               : (c >> 3) == 0x1e ? 4
                                  : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n;
  }
  return true;
}

RE2::Options PatternOptions() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_max_mem(kMaxPatternProgramBytes);
  options.set_log_errors(false);
  return options;
}

absl::Status CheckPatternText(absl::string_view pattern,
                              absl::string_view field) {
  if (pattern.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  }
  if (pattern.size() > kMaxPatternBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxPatternBytes, " bytes (got ",
                     pattern.size(), ")"));
  }
  if (!IsValidUtf8(pattern)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<const RE2>> CompilePattern(
    const std::string& pattern, absl::string_view field) {
  if (absl::Status s = CheckPatternText(pattern, field); !s.ok()) return s;
  auto re = std::make_unique<const RE2>(pattern, PatternOptions());
  if (!re->ok()) {
    if (re->error_code() == RE2::ErrorPatternTooLarge) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": the regular expression is too large"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": invalid RE2 regular expression: ", re->error()));
  }
  return re;
}

absl::StatusOr<ConditionSet> ConditionSet::Compile(
    const std::vector<ArgumentCondition>& conditions, absl::string_view field) {
  if (conditions.size() > kMaxConditionsPerEntry) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxConditionsPerEntry,
                     " conditions (got ", conditions.size(), ")"));
  }
  ConditionSet set;
  set.conditions_.reserve(conditions.size());
  for (size_t j = 0; j < conditions.size(); ++j) {
    auto c = CompileOne(conditions[j], absl::StrCat(field, "[", j, "]"));
    if (!c.ok()) return c.status();
    set.conditions_.push_back(*std::move(c));
  }
  if (absl::Status s = CheckConflicts(conditions, set.conditions_, field);
      !s.ok()) {
    return s;
  }
  return set;
}

ArgumentIndex::ArgumentIndex(std::vector<ConditionSet>* entries) {
  // The conditions by pointer, as its tokens' keys (a token's index follows
  // from its key); a map, for slots numbered the same way every time.
  std::map<std::vector<std::string>, std::vector<CompiledCondition*>>
      by_pointer;
  for (ConditionSet& entry : *entries) {
    for (CompiledCondition& c : entry.conditions_) {
      std::vector<std::string> keys;
      keys.reserve(c.tokens.size());
      for (const PointerToken& token : c.tokens) keys.push_back(token.key);
      by_pointer[std::move(keys)].push_back(&c);
    }
  }
  for (auto& [keys, conditions] : by_pointer) {
    if (conditions.size() < 2) continue;  // nothing to share
    const int slot = static_cast<int>(slots_.size());
    Slot& s = slots_.emplace_back();
    absl::flat_hash_map<absl::string_view, int> member_of;
    std::vector<const std::string*> patterns;
    for (CompiledCondition* c : conditions) {
      c->slot = slot;
      if (c->kind != Kind::kMatches) continue;
      const std::string& pattern = c->pattern->pattern();
      auto [it, added] =
          member_of.try_emplace(pattern, static_cast<int>(patterns.size()));
      if (added) patterns.push_back(&pattern);
      c->member = it->second;
    }
    s.members = static_cast<int>(patterns.size());
    if (s.members < 2) continue;  // one pattern: matched alone, once
    auto set = std::make_unique<RE2::Set>(PatternOptions(), RE2::ANCHOR_BOTH);
    bool ok = true;
    for (int m = 0; ok && m < s.members; ++m) {
      ok = set->Add(*patterns[m], nullptr) == m;
    }
    // Too large together (or a DFA that cannot hold a single state, which
    // fails every match): the patterns are matched alone, as each compiled.
    RE2::Set::ErrorInfo error{RE2::Set::kNoError};
    if (!ok || !set->Compile() ||
        (!set->Match("", nullptr, &error) &&
         error.kind != RE2::Set::kNoError)) {
      continue;
    }
    s.set = std::move(set);
    s.first_word = words_;
    words_ += (s.members + 63) / 64;
  }
}

Outcome ArgumentCache::EvaluateAlone(const CompiledCondition& c) {
  return internal::Evaluate(c, arguments_);
}

void ArgumentCache::SizeSlots() {
  const size_t n = index_.slot_count();
  if (n <= kInline) {
    slots_ = new (inline_slots_) SlotState[n];
  } else {
    heap_slots_ = std::make_unique<SlotState[]>(n);
    slots_ = heap_slots_.get();
  }
}

void ArgumentCache::ResolveSlot(const CompiledCondition& c, SlotState& state) {
  state.resolved = Resolve(c.tokens, arguments_, &state.value)
                       ? Resolved::kFound
                       : Resolved::kMissing;
}

bool ArgumentCache::FullMatch(const CompiledCondition& c, SlotState& state,
                              const std::string& s) {
  if (c.member < 0) return RE2::FullMatch(s, *c.pattern);
  // Entries may share a pattern: each distinct one is matched once.
  for (int k = 0; k < state.alone; ++k) {
    if (state.alone_member[k] == c.member) return state.alone_result[k];
  }
  if (state.matched == Matched::kAlone && state.alone == kAloneBeforeSet) {
    if (index_.has_set(c.slot) && RunSet(c.slot, s)) {
      state.matched = Matched::kSet;
      state.hits = words_ + index_.slots_[c.slot].first_word;
      const auto m = static_cast<unsigned>(c.member);
      return ((state.hits[m / 64] >> (m % 64)) & 1) != 0;
    }
    state.matched = Matched::kOnlyAlone;
  }
  const bool result = RE2::FullMatch(s, *c.pattern);
  if (state.alone < kAloneBeforeSet) {
    state.alone_member[state.alone] = c.member;
    state.alone_result[state.alone] = result;
    ++state.alone;
  }
  return result;
}

bool ArgumentCache::RunSet(int slot, const std::string& s) {
  if (fail_sets_for_testing.load(std::memory_order_relaxed)) {
    sets_failed_for_testing.fetch_add(1);
    return false;
  }
  const ArgumentIndex::Slot& set = index_.slots_[slot];
  RE2::Set::ErrorInfo error{RE2::Set::kNoError};
  // A set that could not run says "no match": that is no answer.
  if (!set.set->Match(s, &hits_, &error)) {
    if (error.kind != RE2::Set::kNoError) return false;
    hits_.clear();
  }
  if (words_ == nullptr) {  // each set clears its own words
    if (static_cast<size_t>(index_.words_) <= kInline) {
      words_ = inline_words_;
    } else {
      heap_words_ = std::make_unique_for_overwrite<uint64_t[]>(index_.words_);
      words_ = heap_words_.get();
    }
  }
  const int words = (set.members + 63) / 64;
  std::fill_n(words_ + set.first_word, words, 0);
  for (int m : hits_) {
    if (m < 0 || m >= set.members) return false;  // not an answer either
    words_[set.first_word + m / 64] |= uint64_t{1} << (m % 64);
  }
  return true;
}

bool Resolve(const std::vector<PointerToken>& tokens, const Struct& arguments,
             const Value** value) {
  const Struct* object = &arguments;
  const ListValue* list = nullptr;
  const Value* v = nullptr;
  for (const PointerToken& token : tokens) {
    if (object != nullptr) {
      auto it = object->fields().find(token.key);
      if (it == object->fields().end()) return false;
      v = &it->second;
    } else if (list != nullptr) {
      if (token.index < 0 || token.index >= list->values_size()) return false;
      v = &list->values(static_cast<int>(token.index));
    } else {
      return false;  // below a scalar
    }
    object =
        v->kind_case() == Value::kStructValue ? &v->struct_value() : nullptr;
    list = v->kind_case() == Value::kListValue ? &v->list_value() : nullptr;
  }
  *value = v;
  return true;
}

Outcome Evaluate(const CompiledCondition& c, const Struct& arguments) {
  const Value* v = nullptr;
  const bool found = Resolve(c.tokens, arguments, &v);
  return EvaluateResolved(c, found, v, [&](const std::string& s) {
    return RE2::FullMatch(s, *c.pattern);
  });
}

}  // namespace mcpreg::policy::internal
