#include "policy/tool_policy.h"

#include <algorithm>
#include <atomic>
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
      policy->exact_[e.pattern].push_back(static_cast<int>(i));
    } else {
      // Compiled alone first: RE2::Set reports errors without their cause,
      // and the size check needs the program.
      if (auto alone = internal::CompilePattern(e.pattern, field);
          !alone.ok()) {
        return alone.status();
      }
      std::string error;
      if (policy->regexes_->Add(e.pattern, &error) < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": invalid RE2 regular expression: ", error));
      }
      policy->regex_entry_.push_back(static_cast<int>(i));
    }
    // Validated in ALLOW_ALL too, where entries do not count: the policy
    // may be switched to a list later with the same entries.
    auto conditions = ConditionSet::Compile(
        e.conditions, absl::StrCat(entry_field, ".conditions"));
    if (!conditions.ok()) return conditions.status();
    policy->conditions_.push_back(*std::move(conditions));
  }
  if (!policy->regex_entry_.empty() && !policy->regexes_->Compile()) {
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
                                     std::vector<int>* out) const {
  out->clear();
  if (!regex_entry_.empty()) {
    RE2::Set::ErrorInfo error{RE2::Set::kNoError};
    const bool matched =
        !fail_matching_for_testing.load(std::memory_order_relaxed) &&
        regexes_->Match(re2::StringPiece(tool.data(), tool.size()), out,
                        &error);
    // A set that could not run (its DFA out of memory) says "no match";
    // that is not an answer, and in deny-list mode it would allow.
    if (!matched && (error.kind != RE2::Set::kNoError ||
                     fail_matching_for_testing.load())) {
      return false;
    }
    if (!matched) out->clear();
    for (int& hit : *out) hit = regex_entry_[hit];
  }
  if (auto it = exact_.find(tool); it != exact_.end()) {
    out->insert(out->end(), it->second.begin(), it->second.end());
  }
  // RE2::Set does not promise an order; a handful of indexes to sort.
  std::sort(out->begin(), out->end());
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
  std::vector<int> matches;
  if (!MatchingEntries(tool, &matches)) return MatchFailedDecision();
  const google::protobuf::Struct& args =
      arguments != nullptr ? *arguments
                           : google::protobuf::Struct::default_instance();
  // The lowest entry that matched by name but not by its conditions, and
  // its first failing condition: what decided when no entry matched.
  int near_entry = -1, near_condition = -1;
  internal::ArgumentCache cache(*arguments_, args);
  for (int i : matches) {
    const ConditionSet& conditions = conditions_[i];
    const absl::string_view verb = deny ? "denied by " : "allowed by ";
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
  const absl::string_view miss =
      deny ? "not on the deny list" : "not on the allow list";
  if (near_entry < 0) return Decision{deny, std::string(miss), -1};
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
  std::vector<int> matches;
  if (!MatchingEntries(tool, &matches)) return false;
  if (mode_ == Mode::kAllowList) return !matches.empty();
  // A deny entry with conditions denies some calls only; one without
  // denies them all.
  return std::none_of(matches.begin(), matches.end(),
                      [&](int i) { return conditions_[i].empty(); });
}

}  // namespace mcpreg::policy
