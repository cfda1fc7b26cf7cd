// Policy semantics, table-driven: every mode x static/regex x match/no-match,
// whole-name anchoring, empty lists, Unicode names, and the compile-time
// refusals.
#include "policy/tool_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mcpreg::policy {
namespace {

using ::testing::HasSubstr;

struct Row {
  const char* name;
  Mode mode;
  std::vector<Entry> entries;
  const char* tool;
  bool allowed;
  int entry;  // deciding entry, -1 for none
};

class PolicyTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(PolicyTableTest, Decides) {
  const Row& row = GetParam();
  auto policy = CompiledPolicy::Compile(row.mode, row.entries);
  ASSERT_TRUE(policy.ok()) << policy.status();
  Decision d = (*policy)->Check(row.tool);
  EXPECT_EQ(d.allowed, row.allowed) << d.reason;
  EXPECT_EQ(d.entry_index, row.entry) << d.reason;
  EXPECT_FALSE(d.reason.empty());
}

const Entry kExact{"read_file", false};
const Entry kRegex{"get_.*", true};

INSTANTIATE_TEST_SUITE_P(
    Semantics, PolicyTableTest,
    ::testing::Values(
        Row{"AllowAllAllowsAnything", Mode::kAllowAll, {}, "rm_rf", true, -1},
        Row{"AllowAllIgnoresEntries", Mode::kAllowAll, {kExact}, "x", true, -1},
        Row{"AllowListExactMatch",
            Mode::kAllowList,
            {kExact},
            "read_file",
            true,
            0},
        Row{"AllowListExactNoMatch",
            Mode::kAllowList,
            {kExact},
            "write_file",
            false,
            -1},
        Row{"AllowListExactIsNotAPrefix",
            Mode::kAllowList,
            {kExact},
            "read_file2",
            false,
            -1},
        Row{"AllowListExactIsCaseSensitive",
            Mode::kAllowList,
            {kExact},
            "Read_File",
            false,
            -1},
        Row{"AllowListRegexMatch",
            Mode::kAllowList,
            {kRegex},
            "get_user",
            true,
            0},
        Row{"AllowListRegexNoMatch",
            Mode::kAllowList,
            {kRegex},
            "set_user",
            false,
            -1},
        Row{"AllowListRegexIsAnchoredAtStart",
            Mode::kAllowList,
            {kRegex},
            "xget_user",
            false,
            -1},
        Row{"AllowListRegexIsAnchoredAtEnd",
            Mode::kAllowList,
            {{"get_[a-z]+", true}},
            "get_user!",
            false,
            -1},
        Row{"AllowListStaticTextIsNotARegex",
            Mode::kAllowList,
            {{"get_.*", false}},
            "get_user",
            false,
            -1},
        Row{"AllowListStaticDotIsLiteral",
            Mode::kAllowList,
            {{"a.b", false}},
            "a.b",
            true,
            0},
        Row{"AllowListEmptyAllowsNothing",
            Mode::kAllowList,
            {},
            "read_file",
            false,
            -1},
        Row{"DenyListExactMatch",
            Mode::kDenyList,
            {kExact},
            "read_file",
            false,
            0},
        Row{"DenyListExactNoMatch",
            Mode::kDenyList,
            {kExact},
            "write_file",
            true,
            -1},
        Row{"DenyListRegexMatch",
            Mode::kDenyList,
            {kRegex},
            "get_secret",
            false,
            0},
        Row{"DenyListRegexNoMatch",
            Mode::kDenyList,
            {kRegex},
            "list_items",
            true,
            -1},
        Row{"DenyListRegexAnchored",
            Mode::kDenyList,
            {kRegex},
            "forget_it",
            true,
            -1},
        Row{"DenyListEmptyAllowsEverything",
            Mode::kDenyList,
            {},
            "anything",
            true,
            -1},
        Row{"LowestIndexDecides",
            Mode::kAllowList,
            {{"get_.*", true}, {"get_user", false}},
            "get_user",
            true,
            0},
        Row{"LowestIndexDecidesExactFirst",
            Mode::kDenyList,
            {{"get_user", false}, {"get_.*", true}},
            "get_user",
            false,
            0},
        Row{"AlternationIsWholeName",
            Mode::kAllowList,
            {{"a|b", true}},
            "ab",
            false,
            -1},
        Row{"UnicodeExact",
            Mode::kAllowList,
            {{"読む", false}},
            "読む",
            true,
            0},
        Row{"UnicodeRegexDotIsOneCodePoint",
            Mode::kAllowList,
            {{"読.", true}},
            "読む",
            true,
            0},
        Row{"UnicodeClass",
            Mode::kDenyList,
            {{"\\p{Greek}+", true}},
            "λόγος",
            false,
            0},
        Row{"EmptyToolNameIsDenied", Mode::kAllowAll, {}, "", false, -1},
        Row{"InvalidUtf8ToolNameIsDenied",
            Mode::kDenyList,
            {},
            "\xff\xfe",
            false,
            -1}),
    [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

TEST(PolicyCompileTest, InvalidRegexNamesItsIndex) {
  auto p = CompiledPolicy::Compile(
      Mode::kAllowList, {{"ok", false}, {"(unclosed", true}}, "policy.");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr("policy.entries[1].pattern: invalid RE2"));
}

TEST(PolicyCompileTest, BackreferencesAreNotRe2) {
  auto p = CompiledPolicy::Compile(Mode::kDenyList, {{"(a)\\1", true}});
  EXPECT_FALSE(p.ok());
}

TEST(PolicyCompileTest, OversizedPatternsAndListsAreRefused) {
  EXPECT_THAT(std::string(CompiledPolicy::Compile(
                              Mode::kAllowList,
                              {{std::string(kMaxPatternBytes + 1, 'a'), false}})
                              .status()
                              .message()),
              HasSubstr("at most 1024 bytes"));
  // Small text, huge program: a bounded repetition RE2 refuses to build.
  auto huge = CompiledPolicy::Compile(Mode::kAllowList,
                                      {{"((a{100}){100}){100}", true}});
  EXPECT_FALSE(huge.ok());
  std::vector<Entry> many(kMaxEntries + 1, Entry{"x", false});
  EXPECT_FALSE(CompiledPolicy::Compile(Mode::kAllowList, many).ok());
  EXPECT_FALSE(CompiledPolicy::Compile(Mode::kAllowList, {{"", false}}).ok());
  EXPECT_FALSE(
      CompiledPolicy::Compile(Mode::kAllowList, {{"\xc3\x28", true}}).ok());
}

TEST(PolicyCompileTest, HostileRegexRunsInLinearTime) {
  // Catastrophic for a backtracking engine; RE2 answers at once.
  auto p = CompiledPolicy::Compile(Mode::kDenyList, {{"(a+)+$", true}});
  ASSERT_TRUE(p.ok());
  std::string tool(200, 'a');
  tool += "!";
  EXPECT_TRUE((*p)->Check(tool).allowed);
}

TEST(PolicyTest, NoPolicyIsZeroTrust) {
  EXPECT_FALSE(NoPolicyDecision().allowed);
  EXPECT_THAT(NoPolicyDecision().reason, HasSubstr("zero trust"));
}

// A pattern set that cannot run (RE2's DFA out of memory) answers "no
// match"; in deny-list mode that would allow. The policy's own limits keep
// RE2 from getting there (a set resets its cache rather than give up, and
// fails only when not one state fits, which the compile limit prevents), so
// the failure is simulated: whatever the mode, the tool is denied.
TEST(PolicyTest, PatternsThatCannotBeEvaluatedDeny) {
  for (Mode mode : {Mode::kAllowList, Mode::kDenyList}) {
    auto policy =
        CompiledPolicy::Compile(mode, {{"rm_.*", true}, {"cat", false}});
    ASSERT_TRUE(policy.ok());
    CompiledPolicy::FailMatchingForTesting(true);
    const Decision d = (*policy)->Check("ls");
    CompiledPolicy::FailMatchingForTesting(false);
    EXPECT_FALSE(d.allowed) << ModeName(mode);
    EXPECT_THAT(d.reason, ::testing::HasSubstr("could not be evaluated"));
    EXPECT_EQ(mode == Mode::kDenyList, (*policy)->Check("ls").allowed);
  }
}

}  // namespace
}  // namespace mcpreg::policy
