#include "policy/tool_policy.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/str_cat.h"

namespace mcpreg::policy {
namespace {

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
      std::make_unique<RE2::Set>(PatternOptions(), RE2::ANCHOR_BOTH);
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const std::string field =
        absl::StrCat(field_prefix, "entries[", i, "].pattern");
    if (e.pattern.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
    }
    if (e.pattern.size() > kMaxPatternBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": at most ", kMaxPatternBytes, " bytes (got ",
                       e.pattern.size(), ")"));
    }
    if (!IsValidUtf8(e.pattern)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": is not valid UTF-8"));
    }
    if (!e.is_regex) {
      policy->exact_.try_emplace(e.pattern, static_cast<int>(i));
      continue;
    }
    // Compile alone first: RE2::Set reports errors without their cause, and
    // the size check needs the program.
    RE2 alone(e.pattern, PatternOptions());
    if (!alone.ok()) {
      const bool too_big = alone.error_code() == RE2::ErrorPatternTooLarge;
      return absl::InvalidArgumentError(
          absl::StrCat(field,
                       too_big ? ": the regular expression is too large"
                               : ": invalid RE2 regular expression: ",
                       too_big ? "" : alone.error()));
    }
    std::string error;
    if (policy->regexes_->Add(e.pattern, &error) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": invalid RE2 regular expression: ", error));
    }
    policy->regex_entry_.push_back(static_cast<int>(i));
  }
  if (!policy->regex_entry_.empty() && !policy->regexes_->Compile()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field_prefix, "entries: the patterns together are too large"));
  }
  return std::shared_ptr<const CompiledPolicy>(std::move(policy));
}

std::atomic<bool> fail_matching_for_testing{false};

void CompiledPolicy::FailMatchingForTesting(bool fail) {
  fail_matching_for_testing.store(fail);
}

int CompiledPolicy::FirstMatch(absl::string_view tool) const {
  int first = -1;
  if (auto it = exact_.find(tool); it != exact_.end()) first = it->second;
  if (!regex_entry_.empty()) {
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
      return kMatchFailed;
    }
    if (matched) {
      for (int h : hits) {
        const int entry = regex_entry_[h];
        if (first < 0 || entry < first) first = entry;
      }
    }
  }
  return first;
}

Decision CompiledPolicy::Check(absl::string_view tool) const {
  if (tool.empty() || tool.size() > kMaxToolNameBytes || !IsValidUtf8(tool)) {
    return Decision{false, "the tool name is empty, too long or not UTF-8", -1};
  }
  switch (mode_) {
    case Mode::kAllowAll:
      return Decision{true, "the policy allows all tools", -1};
    case Mode::kAllowList: {
      const int i = FirstMatch(tool);
      if (i == kMatchFailed) return MatchFailedDecision();
      if (i < 0) return Decision{false, "not on the allow list", -1};
      return Decision{true, absl::StrCat("allowed by ", Describe(entries_[i])),
                      i};
    }
    case Mode::kDenyList: {
      const int i = FirstMatch(tool);
      if (i == kMatchFailed) return MatchFailedDecision();
      if (i < 0) return Decision{true, "not on the deny list", -1};
      return Decision{false, absl::StrCat("denied by ", Describe(entries_[i])),
                      i};
    }
  }
  return NoPolicyDecision();
}

}  // namespace mcpreg::policy
