#include "policy/tool_policy.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "policy/argument_conditions.h"

namespace mcpreg::policy {
namespace {

using internal::ConditionSet;

// The patterns could not be evaluated: deny, whatever the mode.
Decision MatchFailedDecision() {
  return Decision{false,
                  "the policy's patterns could not be evaluated for this "
                  "name; denied to be safe",
                  -1};
}

std::string Describe(const Entry& e) {
  return absl::StrCat(e.is_regex ? "pattern " : "tool name ", "'", e.pattern,
                      "'");
}

bool IsValidToolName(absl::string_view tool) {
  return !tool.empty() && tool.size() <= kMaxToolNameBytes &&
         internal::IsValidUtf8(tool);
}

}  // namespace

absl::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kAllowAll:
      return "ALLOW_ALL";
    case Mode::kAllowList:
      return "ALLOW_LIST";
    case Mode::kDenyList:
      return "DENY_LIST";
  }
  return "?";
}

Decision NoPolicyDecision() {
  return Decision{false,
                  "the server has no tool policy; zero trust allows no tool "
                  "until an admin sets one",
                  -1};
}

CompiledPolicy::CompiledPolicy(Mode mode, std::vector<Entry> entries)
    : mode_(mode), entries_(std::move(entries)) {}

CompiledPolicy::~CompiledPolicy() = default;

void CompiledPolicy::AddEntry(int entry, EntryWords* words) {
  const int word = entry / 64;
  const uint64_t bit = uint64_t{1} << (entry % 64);
  if (words->empty() || words->back().first != word) {
    words->emplace_back(word, bit);
  } else {
    words->back().second |= bit;
  }
}

void CompiledPolicy::AddAll(const EntryWords& words, EntrySet* set) {
  for (const auto& [word, bits] : words) (*set)[word] |= bits;
}

absl::StatusOr<std::shared_ptr<const CompiledPolicy>> CompiledPolicy::Compile(
    Mode mode, const std::vector<Entry>& entries,
    absl::string_view field_prefix) {
  if (entries.size() > kMaxEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat(field_prefix, "entries: at most ", kMaxEntries,
                     " entries (got ", entries.size(), ")"));
  }
  std::shared_ptr<CompiledPolicy> policy(new CompiledPolicy(mode, entries));
  policy->regexes_ =
      std::make_unique<RE2::Set>(internal::PatternOptions(), RE2::ANCHOR_BOTH);
  policy->conditions_.reserve(entries.size());
  absl::flat_hash_map<std::string, int> regex_members;  // pattern -> member
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const std::string entry_field =
        absl::StrCat(field_prefix, "entries[", i, "]");
    const std::string field = absl::StrCat(entry_field, ".pattern");
    if (!e.is_regex) {
      if (absl::Status s = internal::CheckPatternText(e.pattern, field);
          !s.ok()) {
        return s;
      }
      AddEntry(static_cast<int>(i), &policy->exact_[e.pattern]);
    } else {
      // Compiled alone first: RE2::Set reports errors without their cause,
      // and the size check needs the program.
      if (auto alone = internal::CompilePattern(e.pattern, field);
          !alone.ok()) {
        return alone.status();
      }
      // A pattern repeated (one tool named by many entries) is one member
      // of the set, standing for all of them.
      auto [member, added] = regex_members.try_emplace(
          e.pattern, static_cast<int>(policy->regex_entries_.size()));
      if (added) {
        std::string error;
        if (policy->regexes_->Add(e.pattern, &error) < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, ": invalid RE2 regular expression: ", error));
        }
        policy->regex_entries_.emplace_back();
      }
      AddEntry(static_cast<int>(i), &policy->regex_entries_[member->second]);
    }
    // Validated in ALLOW_ALL too, where entries do not count: the policy
    // may be switched to a list later with the same entries.
    auto conditions = ConditionSet::Compile(
        e.conditions, absl::StrCat(entry_field, ".conditions"));
    if (!conditions.ok()) return conditions.status();
    policy->conditions_.push_back(*std::move(conditions));
  }
  if (!policy->regex_entries_.empty() && !policy->regexes_->Compile()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field_prefix, "entries: the patterns together are too large"));
  }
  policy->arguments_ =
      std::make_unique<internal::ArgumentIndex>(&policy->conditions_);
  return std::shared_ptr<const CompiledPolicy>(std::move(policy));
}

std::atomic<bool> fail_matching_for_testing{false};

void CompiledPolicy::FailMatchingForTesting(bool fail) {
  fail_matching_for_testing.store(fail);
}

void CompiledPolicy::FailConditionSetsForTesting(bool fail) {
  internal::FailConditionSetsForTesting(fail);
}

int CompiledPolicy::ConditionSetsFailedForTesting() {
  return internal::ConditionSetsFailedForTesting();
}

bool CompiledPolicy::MatchingEntries(absl::string_view tool,
                                     EntrySet* out) const {
  out->fill(0);  // a few vector stores; fill_n would call memset
  if (!regex_entries_.empty()) {
    std::vector<int> hits;
    RE2::Set::ErrorInfo error{RE2::Set::kNoError};
    const bool matched =
        !fail_matching_for_testing.load(std::memory_order_relaxed) &&
        regexes_->Match(re2::StringPiece(tool.data(), tool.size()), &hits,
                        &error);
    // A set that could not run (its DFA out of memory) says "no match";
    // that is not an answer, and in deny-list mode it would allow.
    if (!matched && (error.kind != RE2::Set::kNoError ||
                     fail_matching_for_testing.load())) {
      return false;
    }
    // In no particular order; the bits put them in entry order.
    if (matched) {
      for (int hit : hits) AddAll(regex_entries_[hit], out);
    }
  }
  if (auto it = exact_.find(tool); it != exact_.end()) AddAll(it->second, out);
  return true;
}

Decision CompiledPolicy::Check(
    absl::string_view tool, const google::protobuf::Struct* arguments) const {
  if (!IsValidToolName(tool)) {
    return Decision{false, "the tool name is empty, too long or not UTF-8", -1};
  }
  if (mode_ == Mode::kAllowAll) {
    return Decision{true, "the policy allows all tools", -1};
  }
  const bool deny = mode_ == Mode::kDenyList;
  EntrySet matches;
  if (!MatchingEntries(tool, &matches)) return MatchFailedDecision();
  const google::protobuf::Struct& args =
      arguments != nullptr ? *arguments
                           : google::protobuf::Struct::default_instance();
  // The lowest entry that matched by name but not by its conditions, and
  // its first failing condition: what decided when no entry matched.
  int near_entry = -1, near_condition = -1;
  // Chosen between constants of known length: a ternary on the literals
  // themselves makes GCC count the chosen one's bytes on every call.
  static constexpr absl::string_view kDeniedBy = "denied by ",
                                     kAllowedBy = "allowed by ",
                                     kNotOnDenyList = "not on the deny list",
                                     kNotOnAllowList = "not on the allow list";
  const absl::string_view verb = deny ? kDeniedBy : kAllowedBy;
  internal::ArgumentCache cache(*arguments_, args);
  const size_t words = (entries_.size() + 63) / 64;
  for (size_t w = 0; w < words; ++w) {
    for (uint64_t bits = matches[w]; bits != 0; bits &= bits - 1) {
      const int i = static_cast<int>(w * 64) + std::countr_zero(bits);
      const ConditionSet& conditions = conditions_[i];
      if (conditions.empty()) {
        return Decision{!deny, absl::StrCat(verb, Describe(entries_[i])), i};
      }
      int wrong_type = -1;
      const int failing = conditions.FirstFailing(cache, deny, &wrong_type);
      if (failing < 0 && wrong_type >= 0) {
        return Decision{
            false,
            absl::StrCat(verb, Describe(entries_[i]), ": its condition ",
                         wrong_type, " (", conditions.Describe(wrong_type),
                         ") found a value of another type, which a deny entry "
                         "counts as a match"),
            i, wrong_type};
      }
      if (failing < 0) {
        return Decision{
            !deny,
            absl::StrCat(verb, Describe(entries_[i]), " (conditions hold)"), i};
      }
      if (near_entry < 0) {
        near_entry = i;
        near_condition = failing;
      }
    }
  }
  const absl::string_view miss = deny ? kNotOnDenyList : kNotOnAllowList;
  if (near_entry < 0) {
    Decision d;  // not Decision{...}: GCC zeroes that with a slow rep stos
    d.allowed = deny;
    d.reason.assign(miss.data(), miss.size());
    return d;
  }
  return Decision{
      deny,
      absl::StrCat(miss, ": ", Describe(entries_[near_entry]),
                   " matched, but its condition ", near_condition, " (",
                   conditions_[near_entry].Describe(near_condition),
                   ") did not hold"),
      near_entry, near_condition};
}

bool CompiledPolicy::MayList(absl::string_view tool) const {
  if (!IsValidToolName(tool)) return false;
  if (mode_ == Mode::kAllowAll) return true;
  EntrySet matches;
  if (!MatchingEntries(tool, &matches)) return false;
  if (mode_ == Mode::kAllowList) {
    return std::any_of(matches.begin(),
                       matches.begin() + (entries_.size() + 63) / 64,
                       [](uint64_t bits) { return bits != 0; });
  }
  // A deny entry with conditions denies some calls only; one without
  // denies them all.
  for (size_t w = 0; w * 64 < entries_.size(); ++w) {
    for (uint64_t bits = matches[w]; bits != 0; bits &= bits - 1) {
      const int i = static_cast<int>(w * 64) + std::countr_zero(bits);
      if (conditions_[i].empty()) return false;
    }
  }
  return true;
}

}  // namespace mcpreg::policy
