// Policy semantics, table-driven: every mode x static/regex x match/no-match,
// whole-name anchoring, empty lists, Unicode names, and the compile-time
// refusals; then argument conditions: each kind in both list modes, JSON
// Pointers, missing values and wrong types (fail closed), entry order,
// reasons that never quote a value, and listing.
#include "policy/tool_policy.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

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

// --- Argument conditions ---------------------------------------------------

using Kind = ArgumentCondition::Kind;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::testing::Not;

ArgumentCondition Matches(std::string pointer, std::string pattern) {
  ArgumentCondition c;
  c.pointer = std::move(pointer);
  c.kind = Kind::kMatches;
  c.pattern = std::move(pattern);
  return c;
}

ArgumentCondition OneOf(std::string pointer, std::vector<Value> values) {
  ArgumentCondition c;
  c.pointer = std::move(pointer);
  c.kind = Kind::kOneOf;
  c.one_of = std::move(values);
  return c;
}

ArgumentCondition Range(std::string pointer, std::optional<double> min,
                        std::optional<double> max) {
  ArgumentCondition c;
  c.pointer = std::move(pointer);
  c.kind = Kind::kRange;
  c.min = min;
  c.max = max;
  return c;
}

ArgumentCondition Absent(std::string pointer) {
  ArgumentCondition c;
  c.pointer = std::move(pointer);
  c.kind = Kind::kAbsent;
  return c;
}

Value Str(std::string s) {
  Value v;
  v.set_string_value(std::move(s));
  return v;
}

Value Num(double d) {
  Value v;
  v.set_number_value(d);
  return v;
}

Value Bool(bool b) {
  Value v;
  v.set_bool_value(b);
  return v;
}

Value Null() {
  Value v;
  v.set_null_value(google::protobuf::NULL_VALUE);
  return v;
}

Struct Args(const std::string& json) {
  Struct s;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &s);
  EXPECT_TRUE(status.ok()) << status << " in " << json;
  return s;
}

std::shared_ptr<const CompiledPolicy> MustCompile(
    Mode mode, const std::vector<Entry>& entries) {
  auto p = CompiledPolicy::Compile(mode, entries, "policy.");
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : nullptr;
}

// One call against one policy: the expected decision.
struct CallRow {
  const char* name;
  Mode mode;
  std::vector<Entry> entries;
  const char* tool;
  const char* arguments;  // JSON; nullptr for no arguments at all
  bool allowed;
  int entry;
  int condition;
};

void PrintTo(const CallRow& row, std::ostream* os) { *os << row.name; }

class ConditionTableTest : public ::testing::TestWithParam<CallRow> {};

TEST_P(ConditionTableTest, Decides) {
  const CallRow& row = GetParam();
  auto policy = MustCompile(row.mode, row.entries);
  ASSERT_NE(policy, nullptr);
  Struct args;
  if (row.arguments != nullptr) args = Args(row.arguments);
  const Decision d =
      policy->Check(row.tool, row.arguments != nullptr ? &args : nullptr);
  EXPECT_EQ(d.allowed, row.allowed) << d.reason;
  EXPECT_EQ(d.entry_index, row.entry) << d.reason;
  EXPECT_EQ(d.condition_index, row.condition) << d.reason;
  EXPECT_FALSE(d.reason.empty());
}

const Entry kReadUnderSrv{"read_file", false, {Matches("/path", "/srv/.*")}};
const Entry kModeReadOrWrite{
    "open", false, {OneOf("/mode", {Str("r"), Str("w")})}};
const Entry kLimitTo100{"search", false, {Range("/limit", 0, 100)}};
const Entry kNoForce{"delete", false, {Absent("/force")}};
const Entry kDenyRm{"exec", false, {Matches("/cmd", "rm( .*)?")}};
const Entry kDenyBigLimit{"search", false, {Range("/limit", 1000, {})}};
const Entry kDenyRecursive{
    "delete", false, {OneOf("/recursive", {Bool(true)})}};
const Entry kDenyUnconfirmed{"drop_table", false, {Absent("/confirm")}};

INSTANTIATE_TEST_SUITE_P(
    Conditions, ConditionTableTest,
    ::testing::Values(
        // Each kind, allow list: holds -> allowed; fails -> denied, naming
        // the entry and condition.
        CallRow{"MatchesAllows",
                Mode::kAllowList,
                {kReadUnderSrv},
                "read_file",
                R"({"path":"/srv/a"})",
                true,
                0,
                -1},
        CallRow{"MatchesIsWholeValue",
                Mode::kAllowList,
                {kReadUnderSrv},
                "read_file",
                R"({"path":"/x/srv/a"})",
                false,
                0,
                0},
        CallRow{"OneOfAllows",
                Mode::kAllowList,
                {kModeReadOrWrite},
                "open",
                R"({"mode":"w"})",
                true,
                0,
                -1},
        CallRow{"OneOfRefuses",
                Mode::kAllowList,
                {kModeReadOrWrite},
                "open",
                R"({"mode":"a"})",
                false,
                0,
                0},
        CallRow{"RangeAllowsBounds",
                Mode::kAllowList,
                {kLimitTo100},
                "search",
                R"({"limit":100})",
                true,
                0,
                -1},
        CallRow{"RangeAllowsLowBound",
                Mode::kAllowList,
                {kLimitTo100},
                "search",
                R"({"limit":0})",
                true,
                0,
                -1},
        CallRow{"RangeRefusesAbove",
                Mode::kAllowList,
                {kLimitTo100},
                "search",
                R"({"limit":100.5})",
                false,
                0,
                0},
        CallRow{"RangeRefusesBelow",
                Mode::kAllowList,
                {kLimitTo100},
                "search",
                R"({"limit":-1})",
                false,
                0,
                0},
        CallRow{"AbsentAllows",
                Mode::kAllowList,
                {kNoForce},
                "delete",
                R"({"path":"x"})",
                true,
                0,
                -1},
        CallRow{"AbsentRefusesEvenFalse",
                Mode::kAllowList,
                {kNoForce},
                "delete",
                R"({"force":false})",
                false,
                0,
                0},
        CallRow{"AbsentRefusesNull",
                Mode::kAllowList,
                {kNoForce},
                "delete",
                R"({"force":null})",
                false,
                0,
                0},
        // Each kind, deny list: holds -> denied; fails -> allowed.
        CallRow{"DenyMatches",
                Mode::kDenyList,
                {kDenyRm},
                "exec",
                R"({"cmd":"rm -rf /"})",
                false,
                0,
                -1},
        CallRow{"DenyMatchesFails",
                Mode::kDenyList,
                {kDenyRm},
                "exec",
                R"({"cmd":"ls -l"})",
                true,
                0,
                0},
        CallRow{"DenyRange",
                Mode::kDenyList,
                {kDenyBigLimit},
                "search",
                R"({"limit":5000})",
                false,
                0,
                -1},
        CallRow{"DenyRangeFails",
                Mode::kDenyList,
                {kDenyBigLimit},
                "search",
                R"({"limit":10})",
                true,
                0,
                0},
        CallRow{"DenyOneOf",
                Mode::kDenyList,
                {kDenyRecursive},
                "delete",
                R"({"recursive":true})",
                false,
                0,
                -1},
        CallRow{"DenyOneOfFails",
                Mode::kDenyList,
                {kDenyRecursive},
                "delete",
                R"({"recursive":false})",
                true,
                0,
                0},
        CallRow{"DenyAbsent",
                Mode::kDenyList,
                {kDenyUnconfirmed},
                "drop_table",
                R"({})",
                false,
                0,
                -1},
        CallRow{"DenyAbsentFails",
                Mode::kDenyList,
                {kDenyUnconfirmed},
                "drop_table",
                R"({"confirm":"yes"})",
                true,
                0,
                0},
        CallRow{"DenyAbsentWithNoArguments",
                Mode::kDenyList,
                {kDenyUnconfirmed},
                "drop_table",
                nullptr,
                false,
                0,
                -1},
        // Missing values and wrong types. Allow list: never allows.
        CallRow{"AllowMissingValue",
                Mode::kAllowList,
                {kReadUnderSrv},
                "read_file",
                R"({"file":"/srv/a"})",
                false,
                0,
                0},
        CallRow{"AllowNoArguments",
                Mode::kAllowList,
                {kReadUnderSrv},
                "read_file",
                nullptr,
                false,
                0,
                0},
        CallRow{"AllowWrongTypeNumber",
                Mode::kAllowList,
                {kReadUnderSrv},
                "read_file",
                R"({"path":5})",
                false,
                0,
                0},
        CallRow{"AllowWrongTypeList",
                Mode::kAllowList,
                {kReadUnderSrv},
                "read_file",
                R"({"path":["/srv/a"]})",
                false,
                0,
                0},
        CallRow{"AllowRangeOnString",
                Mode::kAllowList,
                {kLimitTo100},
                "search",
                R"({"limit":"50"})",
                false,
                0,
                0},
        CallRow{"AllowOneOfOtherKind",
                Mode::kAllowList,
                {kModeReadOrWrite},
                "open",
                R"({"mode":null})",
                false,
                0,
                0},
        // Deny list: a missing value does not deny; a wrong type does.
        CallRow{"DenyMissingValue",
                Mode::kDenyList,
                {kDenyRm},
                "exec",
                R"({})",
                true,
                0,
                0},
        CallRow{"DenyWrongType",
                Mode::kDenyList,
                {kDenyRm},
                "exec",
                R"({"cmd":["rm","-rf","/"]})",
                false,
                0,
                0},
        CallRow{"DenyRangeOnString",
                Mode::kDenyList,
                {kDenyBigLimit},
                "search",
                R"({"limit":"5000"})",
                false,
                0,
                0},
        CallRow{"DenyOneOfOnString",
                Mode::kDenyList,
                {kDenyRecursive},
                "delete",
                R"({"recursive":"true"})",
                false,
                0,
                0},
        CallRow{"DenyOneOfOnObject",
                Mode::kDenyList,
                {kDenyRecursive},
                "delete",
                R"({"recursive":{}})",
                false,
                0,
                0},
        // Scalars of every kind in one set; numbers compare as doubles.
        CallRow{"OneOfNumber",
                Mode::kAllowList,
                {{"t",
                  false,
                  {OneOf("/v", {Num(2), Str("2"), Bool(false), Null()})}}},
                "t",
                R"({"v":2.0})",
                true,
                0,
                -1},
        CallRow{"OneOfBool",
                Mode::kAllowList,
                {{"t", false, {OneOf("/v", {Num(2), Bool(false)})}}},
                "t",
                R"({"v":false})",
                true,
                0,
                -1},
        CallRow{"OneOfOtherBool",
                Mode::kAllowList,
                {{"t", false, {OneOf("/v", {Num(2), Bool(false)})}}},
                "t",
                R"({"v":true})",
                false,
                0,
                0},
        CallRow{"OneOfNull",
                Mode::kAllowList,
                {{"t", false, {OneOf("/v", {Null()})}}},
                "t",
                R"({"v":null})",
                true,
                0,
                -1},
        CallRow{"OneOfStringIsNotNumber",
                Mode::kAllowList,
                {{"t", false, {OneOf("/v", {Num(2)})}}},
                "t",
                R"({"v":"2"})",
                false,
                0,
                0},
        CallRow{"RangeMinOnly",
                Mode::kAllowList,
                {{"t", false, {Range("/n", 1.5, {})}}},
                "t",
                R"({"n":1e300})",
                true,
                0,
                -1},
        CallRow{"RangeMaxOnly",
                Mode::kAllowList,
                {{"t", false, {Range("/n", {}, -2)}}},
                "t",
                R"({"n":-1})",
                false,
                0,
                0},
        // All conditions of an entry must hold; the first failing one is
        // named.
        CallRow{"AllMustHold",
                Mode::kAllowList,
                {{"t", false, {Range("/n", 0, 9), Matches("/s", "[a-z]+")}}},
                "t",
                R"({"n":3,"s":"Abc"})",
                false,
                0,
                1},
        // The lowest entry whose name and conditions match decides; an
        // earlier entry whose conditions fail falls through.
        CallRow{"FallsThroughToLaterEntry",
                Mode::kAllowList,
                {{"read_file", false, {Matches("/path", "/srv/a/.*")}},
                 {"read_file", false, {Matches("/path", "/srv/b/.*")}}},
                "read_file",
                R"({"path":"/srv/b/x"})",
                true,
                1,
                -1},
        CallRow{"FallsThroughToRegexEntry",
                Mode::kAllowList,
                {{"read_file", false, {Matches("/path", "/srv/a/.*")}},
                 {"read_.*", true}},
                "read_file",
                R"({"path":"/etc/x"})",
                true,
                1,
                -1},
        CallRow{"FallsThroughFromRegexToExact",
                Mode::kAllowList,
                {{"read_.*", true, {Matches("/path", "/srv/a/.*")}},
                 {"write_file", false},
                 {"read_file", false}},
                "read_file",
                R"({"path":"/etc/x"})",
                true,
                2,
                -1},
        CallRow{"EarlierEntryWithConditionsWins",
                Mode::kAllowList,
                {{"read_.*", true, {Matches("/path", "/srv/a/.*")}},
                 {"read_file", false}},
                "read_file",
                R"({"path":"/srv/a/x"})",
                true,
                0,
                -1},
        CallRow{"LowestFailingEntryIsNamed",
                Mode::kAllowList,
                {{"other", false},
                 {"read_.*", true, {Range("/n", 0, 1), Absent("/x")}},
                 {"read_file", false, {Absent("/x")}}},
                "read_file",
                R"({"n":0,"x":1})",
                false,
                1,
                1},
        CallRow{"DenyFallsThroughToLaterDeny",
                Mode::kDenyList,
                {{"exec", false, {Matches("/cmd", "rm .*")}},
                 {"exec", false, {Absent("/sandbox")}}},
                "exec",
                R"({"cmd":"ls"})",
                false,
                1,
                -1},
        CallRow{"DenyUnconditionalAfterConditional",
                Mode::kDenyList,
                {{"exec", false, {Matches("/cmd", "rm .*")}}, {"ex.*", true}},
                "exec",
                R"({"cmd":"ls"})",
                false,
                1,
                -1},
        // ALLOW_ALL ignores entries and their conditions.
        CallRow{"AllowAllIgnoresConditions",
                Mode::kAllowAll,
                {kReadUnderSrv},
                "read_file",
                R"({"path":"/etc"})",
                true,
                -1,
                -1},
        // JSON Pointers: escapes, arrays, nesting, the whole object.
        CallRow{"PointerTilde1IsSlash",
                Mode::kAllowList,
                {{"t", false, {OneOf("/a~1b", {Str("y")})}}},
                "t",
                R"({"a/b":"y","a":{"b":"n"}})",
                true,
                0,
                -1},
        CallRow{"PointerTilde0IsTilde",
                Mode::kAllowList,
                {{"t", false, {OneOf("/m~0n", {Str("y")})}}},
                "t",
                R"({"m~n":"y"})",
                true,
                0,
                -1},
        CallRow{"PointerTilde01IsTildeOne",
                Mode::kAllowList,
                {{"t", false, {OneOf("/~01", {Str("y")})}}},
                "t",
                R"({"~1":"y","/":"n"})",
                true,
                0,
                -1},
        CallRow{"PointerNested",
                Mode::kAllowList,
                {{"t", false, {OneOf("/opts/mode", {Str("fast")})}}},
                "t",
                R"({"opts":{"mode":"fast"}})",
                true,
                0,
                -1},
        CallRow{"PointerThroughScalarIsMissing",
                Mode::kAllowList,
                {{"t", false, {Absent("/opts/mode")}}},
                "t",
                R"({"opts":"mode"})",
                true,
                0,
                -1},
        CallRow{"PointerArrayIndex",
                Mode::kAllowList,
                {{"t", false, {Matches("/files/1/name", "b.*")}}},
                "t",
                R"({"files":[{"name":"a"},{"name":"b1"}]})",
                true,
                0,
                -1},
        CallRow{"PointerArrayIndexOutOfRange",
                Mode::kAllowList,
                {{"t", false, {Absent("/files/2")}}},
                "t",
                R"({"files":[1,2]})",
                true,
                0,
                -1},
        CallRow{"PointerArrayLeadingZeroNeverResolves",
                Mode::kAllowList,
                {{"t", false, {Absent("/files/01")}}},
                "t",
                R"({"files":[1,2]})",
                true,
                0,
                -1},
        CallRow{"PointerArrayDashNeverResolves",
                Mode::kAllowList,
                {{"t", false, {Absent("/files/-")}}},
                "t",
                R"({"files":[1,2]})",
                true,
                0,
                -1},
        CallRow{"PointerHugeIndexNeverResolves",
                Mode::kAllowList,
                {{"t", false, {Absent("/files/99999999999999999999999")}}},
                "t",
                R"({"files":[1,2]})",
                true,
                0,
                -1},
        CallRow{"PointerDigitsAreKeysInObjects",
                Mode::kAllowList,
                {{"t", false, {OneOf("/0", {Str("y")})}}},
                "t",
                R"({"0":"y"})",
                true,
                0,
                -1},
        CallRow{"PointerEmptyKey",
                Mode::kAllowList,
                {{"t", false, {OneOf("/", {Str("y")})}}},
                "t",
                R"({"":"y"})",
                true,
                0,
                -1},
        CallRow{"PointerWholeObjectIsNoString",
                Mode::kAllowList,
                {{"t", false, {Matches("", ".*")}}},
                "t",
                R"({})",
                false,
                0,
                0},
        CallRow{"PointerWholeObjectDeniesAsWrongType",
                Mode::kDenyList,
                {{"t", false, {Matches("", ".*")}}},
                "t",
                nullptr,
                false,
                0,
                0}),
    [](const ::testing::TestParamInfo<CallRow>& info) {
      return info.param.name;
    });

TEST(ConditionReasonTest, NamesEntryAndCondition) {
  auto allow = MustCompile(
      Mode::kAllowList,
      {{"read_file", false, {Matches("/path", "/srv/data/.*")}},
       {"get_.*", true, {Range("/n", 0, 10), OneOf("/m", {Str("a")})}}});
  Struct args = Args(R"({"path":"/etc/passwd","n":3,"m":"b"})");
  EXPECT_EQ(allow->Check("read_file", &args).reason,
            "not on the allow list: tool name 'read_file' matched, but its "
            "condition 0 ('/path' matches '/srv/data/.*') did not hold");
  EXPECT_EQ(allow->Check("get_x", &args).reason,
            "not on the allow list: pattern 'get_.*' matched, but its "
            "condition 1 ('/m' is one of 1 value) did not hold");
  args = Args(R"({"path":"/srv/data/x","n":11,"m":"a"})");
  EXPECT_EQ(allow->Check("read_file", &args).reason,
            "allowed by tool name 'read_file' (conditions hold)");
  EXPECT_EQ(allow->Check("get_x", &args).reason,
            "not on the allow list: pattern 'get_.*' matched, but its "
            "condition 0 ('/n' is a number within [0, 10]) did not hold");
  EXPECT_EQ(allow->Check("other", &args).reason, "not on the allow list");

  auto deny = MustCompile(
      Mode::kDenyList,
      {{"exec", false, {Matches("/cmd", "rm .*"), Range("/n", 1.5, {})}}});
  args = Args(R"({"cmd":"rm x","n":2})");
  EXPECT_EQ(deny->Check("exec", &args).reason,
            "denied by tool name 'exec' (conditions hold)");
  args = Args(R"({"cmd":"rm x","n":"2"})");
  EXPECT_EQ(deny->Check("exec", &args).reason,
            "denied by tool name 'exec': its condition 1 ('/n' is a number "
            ">= 1.5) found a value of another type, which a deny entry counts "
            "as a match");
  args = Args(R"({"cmd":"ls"})");
  EXPECT_EQ(deny->Check("exec", &args).reason,
            "not on the deny list: tool name 'exec' matched, but its "
            "condition 0 ('/cmd' matches 'rm .*') did not hold");
}

// Values can be secrets and reasons go to the audit log: whatever the
// outcome, a reason names pointers and patterns, never what was sent.
TEST(ConditionReasonTest, NeverContainsArgumentValues) {
  const std::string secret = "sk-live-9f8e7d6c5b4a";
  const std::vector<std::string> calls = {
      R"({"token":")" + secret + R"("})",
      R"({"token":{"inner":")" + secret + R"("}})",
      R"({"token":[")" + secret + R"("]})",
      R"({"other":")" + secret + R"("})",
  };
  const std::vector<ArgumentCondition> conditions[] = {
      {Matches("/token", "sk-test-.*")},
      {Matches("/token", "sk-live-.*")},
      {OneOf("/token", {Str("x")})},
      {Range("/token", 0, 1)},
      {Absent("/token")},
      {Absent("/other")},
  };
  for (Mode mode : {Mode::kAllowList, Mode::kDenyList}) {
    for (const auto& c : conditions) {
      auto policy = MustCompile(mode, {{"call_api", false, c}});
      for (const std::string& json : calls) {
        Struct args = Args(json);
        const Decision d = policy->Check("call_api", &args);
        EXPECT_THAT(d.reason, Not(HasSubstr("9f8e7d6c5b4a"))) << json;
        EXPECT_FALSE(d.reason.empty());
      }
    }
  }
}

// The documented path example: an allow list that keeps read_file inside
// /srv/data. The pattern refuses every segment starting with '.', so ".."
// (and ".", and hidden files) cannot appear, and an empty segment cannot
// either; a deny list can refuse ".." segments wherever they are, given
// (?s): without it '.' stops at a newline and "a\n/../x" slips through.
TEST(ConditionExampleTest, ReadFileStaysUnderSrvData) {
  auto allow =
      MustCompile(Mode::kAllowList,
                  {{"read_file",
                    false,
                    {Matches("/path", "/srv/data/[^/.][^/]*(/[^/.][^/]*)*")}}});
  auto deny = MustCompile(
      Mode::kDenyList,
      {{"read_file", false, {Matches("/path", "(?s)(.*/)?\\.\\.(/.*)?")}}});
  const struct {
    const char* path;
    bool allowed;  // by the allow list
    bool denied;   // by the deny list
  } kCases[] = {
      {"/srv/data/a.txt", true, false},
      {"/srv/data/sub/b..md", true, false},
      {"/srv/data/../../etc/shadow", false, true},
      {"/srv/data/x/..", false, true},
      {"..", false, true},
      {"/srv/data/./a", false, false},
      {"/srv/data/.hidden", false, false},
      {"/srv/data//a", false, false},
      {"/srv/data/", false, false},
      {"/srv/data", false, false},
      {"/etc/passwd", false, false},
      {"/srv/data2/x", false, false},
      {"/srv/data/a\n/../../etc", false, true},
  };
  for (const auto& c : kCases) {
    Struct args;
    (*args.mutable_fields())["path"].set_string_value(c.path);
    EXPECT_EQ(allow->Check("read_file", &args).allowed, c.allowed) << c.path;
    EXPECT_EQ(deny->Check("read_file", &args).allowed, !c.denied) << c.path;
  }
}

TEST(MayListTest, FollowsTheModes) {
  auto all = MustCompile(Mode::kAllowAll, {});
  EXPECT_TRUE(all->MayList("anything"));
  EXPECT_FALSE(all->MayList(""));
  EXPECT_FALSE(all->MayList(std::string(kMaxToolNameBytes + 1, 'a')));
  EXPECT_FALSE(all->MayList("\xff"));

  auto allow = MustCompile(
      Mode::kAllowList,
      {{"read_file", false, {Matches("/path", "/srv/.*")}}, {"get_.*", true}});
  EXPECT_TRUE(allow->MayList("read_file"));  // conditions assumed to hold
  EXPECT_TRUE(allow->MayList("get_user"));
  EXPECT_FALSE(allow->MayList("write_file"));

  auto deny = MustCompile(
      Mode::kDenyList,
      {{"exec", false, {Matches("/cmd", "rm .*")}},  // some calls only
       {"drop_.*", true},                            // every call
       {"format", false, {Absent("/confirm")}},
       {"format", false}});
  EXPECT_TRUE(deny->MayList("exec"));
  EXPECT_FALSE(deny->MayList("drop_table"));
  EXPECT_FALSE(deny->MayList("format"));  // one entry denies all calls
  EXPECT_TRUE(deny->MayList("list"));
  EXPECT_FALSE(deny->MayList(""));
}

TEST(MayListTest, PatternsThatCannotBeEvaluatedHide) {
  for (Mode mode : {Mode::kAllowList, Mode::kDenyList}) {
    auto policy = MustCompile(mode, {{"rm_.*", true}, {"ls", false}});
    CompiledPolicy::FailMatchingForTesting(true);
    const bool listed = policy->MayList("ls");
    CompiledPolicy::FailMatchingForTesting(false);
    EXPECT_FALSE(listed) << ModeName(mode);
  }
}

// Each refusal names the field as the REST user wrote it.
struct BadRow {
  const char* name;
  std::vector<ArgumentCondition> conditions;
  const char* message;  // the whole message, or (with "...") its start
};

void PrintTo(const BadRow& row, std::ostream* os) { *os << row.name; }

class ConditionCompileTest : public ::testing::TestWithParam<BadRow> {};

TEST_P(ConditionCompileTest, Refuses) {
  const BadRow& row = GetParam();
  for (Mode mode : {Mode::kAllowAll, Mode::kAllowList, Mode::kDenyList}) {
    auto p = CompiledPolicy::Compile(
        mode, {{"a", false}, {"b.*", true}, {"c", false, row.conditions}},
        "policy.");
    ASSERT_FALSE(p.ok()) << ModeName(mode);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    std::string expected = row.message;
    if (absl::string_view(expected).substr(expected.size() - 3) == "...") {
      EXPECT_THAT(
          std::string(p.status().message()),
          ::testing::StartsWith(expected.substr(0, expected.size() - 3)));
    } else {
      EXPECT_EQ(p.status().message(), expected);
    }
  }
}

ArgumentCondition WithPattern(ArgumentCondition c, std::string pattern) {
  c.pattern = std::move(pattern);
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    Refusals, ConditionCompileTest,
    ::testing::Values(
        BadRow{"PointerWithoutSlash",
               {Matches("path", "x")},
               "policy.entries[2].conditions[0].pointer: must start with '/' "
               "(RFC 6901 JSON Pointer)"},
        BadRow{"PointerBadEscape",
               {Absent("/ok"), Matches("/a~2b", "x")},
               "policy.entries[2].conditions[1].pointer: '~' must be "
               "followed by 0 or 1..."},
        BadRow{"PointerTrailingTilde",
               {Matches("/a~", "x")},
               "policy.entries[2].conditions[0].pointer: '~' must be "
               "followed by 0 or 1..."},
        BadRow{"PointerTooLong",
               {Matches("/" + std::string(kMaxPointerBytes, 'p'), "x")},
               "policy.entries[2].conditions[0].pointer: at most 512 bytes "
               "(got 513)"},
        BadRow{"PointerNotUtf8",
               {Matches("/\xc3\x28", "x")},
               "policy.entries[2].conditions[0].pointer: is not valid UTF-8"},
        BadRow{"MatchesInvalid",
               {Absent("/x"), Matches("/path", "(unclosed")},
               "policy.entries[2].conditions[1].matches: invalid RE2 regular "
               "expression: missing )..."},
        BadRow{"MatchesEmpty",
               {Matches("/path", "")},
               "policy.entries[2].conditions[0].matches: is required"},
        BadRow{"MatchesTooLong",
               {Matches("/path", std::string(kMaxPatternBytes + 1, 'a'))},
               "policy.entries[2].conditions[0].matches: at most 1024 bytes "
               "(got 1025)"},
        BadRow{"MatchesTooLarge",
               {Matches("/path", "\\pL{1000}")},  // small text, huge program
               "policy.entries[2].conditions[0].matches: the regular "
               "expression is too large"},
        BadRow{"MatchesNotUtf8",
               {Matches("/path", "\xff")},
               "policy.entries[2].conditions[0].matches: is not valid UTF-8"},
        BadRow{"OneOfEmpty",
               {OneOf("/m", {})},
               "policy.entries[2].conditions[0].oneOf: needs at least one "
               "value"},
        BadRow{"OneOfTooMany",
               {OneOf("/m", std::vector<Value>(kMaxOneOfValues + 1, Num(1)))},
               "policy.entries[2].conditions[0].oneOf: at most 100 values "
               "(got 101)"},
        BadRow{"OneOfObject",
               {OneOf("/m", {Str("a"), Value()})},
               "policy.entries[2].conditions[0].oneOf[1]: must be a string, "
               "number, boolean or null"},
        BadRow{"OneOfList",
               {OneOf("/m", {[] {
                        Value v;
                        v.mutable_list_value();
                        return v;
                      }()})},
               "policy.entries[2].conditions[0].oneOf[0]: must be a string, "
               "number, boolean or null"},
        BadRow{"OneOfNaN",
               {OneOf("/m", {Num(std::nan(""))})},
               "policy.entries[2].conditions[0].oneOf[0]: must be a finite "
               "number"},
        BadRow{"RangeWithoutBounds",
               {Range("/n", {}, {})},
               "policy.entries[2].conditions[0].range: needs min, max or "
               "both"},
        BadRow{"RangeMinAboveMax",
               {Absent("/a"), Absent("/b"), Absent("/c"), Range("/n", 2, 1)},
               "policy.entries[2].conditions[3].range: min is greater than "
               "max"},
        BadRow{"RangeInfinite",
               {Range("/n", 0, std::numeric_limits<double>::infinity())},
               "policy.entries[2].conditions[0].range: min and max must be "
               "finite numbers"},
        BadRow{"AbsentWholeObject",
               {Absent("")},
               "policy.entries[2].conditions[0].absent: the arguments object "
               "itself ('') is never absent"},
        BadRow{"AbsentAndMatched",
               {Matches("/path", "x"), Absent("/path")},
               "policy.entries[2].conditions: conflicting conditions: '/path' "
               "must be absent and also matched"},
        BadRow{"AbsentAndInRange",
               {Absent("/n"), Range("/n", 0, 1)},
               "policy.entries[2].conditions: conflicting conditions: '/n' "
               "must be absent and also in a range"},
        BadRow{"AbsentParentAndMatchedChild",
               {Absent("/opts"), Matches("/opts/mode", "x")},
               "policy.entries[2].conditions: conflicting conditions: '/opts' "
               "must be absent and '/opts/mode' also matched"},
        BadRow{"AbsentParentAndOneOfElement",
               {OneOf("/opts/0", {Null()}), Absent("/opts")},
               "policy.entries[2].conditions: conflicting conditions: '/opts' "
               "must be absent and '/opts/0' also one of a set"},
        BadRow{"MatchedTwice",
               {Matches("/p", "a"), Matches("/p", "b")},
               "policy.entries[2].conditions: conflicting conditions: '/p' is "
               "tested with 'matches' twice"},
        BadRow{"AbsentTwice",
               {Absent("/p"), Absent("/p")},
               "policy.entries[2].conditions: conflicting conditions: '/p' is "
               "tested with 'absent' twice"},
        BadRow{"TooManyConditions",
               std::vector<ArgumentCondition>(kMaxConditionsPerEntry + 1,
                                              Absent("/x")),
               "policy.entries[2].conditions: at most 16 conditions (got 17)"},
        BadRow{"TwoKindsInOne",
               {WithPattern(Absent("/x"), "y")},
               "policy.entries[2].conditions[0]: exactly one of matches, "
               "oneOf, range and absent"}),
    [](const ::testing::TestParamInfo<BadRow>& info) {
      return info.param.name;
    });

// --- Many entries for one tool: one pattern set per pointer -----------------

// Entry i names read_file (even i exactly, odd i by pattern) and lets it
// read below /srv/data<i> only, at most 1000 rows; as in policy_bench.
std::vector<Entry> ManyForOneTool(int count) {
  std::vector<Entry> entries;
  for (int i = 0; i < count; ++i) {
    entries.push_back(
        {i % 2 == 0 ? "read_file" : "read_.*",
         i % 2 == 1,
         {Range("/limit", {}, 1000),
          Matches("/path", absl::StrCat("/srv/data", i, "(/[^/.][^/]*)+"))}});
  }
  return entries;
}

// The decision as each entry alone gives it, tried in order: a policy of one
// entry shares no pointer with another, so no pattern set is involved. The
// first entry that matches decides; else the first whose name matched, with
// its failing condition; else the mode.
Decision EntryByEntry(Mode mode, const std::vector<Entry>& entries,
                      absl::string_view tool, const Struct* args) {
  const bool deny = mode == Mode::kDenyList;
  std::optional<Decision> near;
  for (size_t i = 0; i < entries.size(); ++i) {
    Decision d = MustCompile(mode, {entries[i]})->Check(tool, args);
    if (d.entry_index != 0) continue;  // not its name
    d.entry_index = static_cast<int>(i);
    if (d.allowed != deny) return d;
    if (!near.has_value()) near = d;
  }
  if (near.has_value()) return *near;
  return MustCompile(mode, {})->Check(tool, args);
}

void ExpectSameDecision(const Decision& got, const Decision& want,
                        const std::string& what) {
  EXPECT_EQ(got.allowed, want.allowed) << what;
  EXPECT_EQ(got.entry_index, want.entry_index) << what;
  EXPECT_EQ(got.condition_index, want.condition_index) << what;
  EXPECT_EQ(got.reason, want.reason) << what;
}

// The decision with every pattern set failing to run (RE2's DFA out of
// memory), and how many set runs were attempted.
std::pair<Decision, int> CheckWithSetsFailing(const CompiledPolicy& policy,
                                              absl::string_view tool,
                                              const Struct* args) {
  CompiledPolicy::FailConditionSetsForTesting(true);
  Decision d = policy.Check(tool, args);
  const int runs = CompiledPolicy::ConditionSetsFailedForTesting();
  CompiledPolicy::FailConditionSetsForTesting(false);
  return {d, runs};
}

// 100 entries for read_file, each with its own /path pattern on one
// pointer: only entry 57's matches, and entry 57 decides, as before sets.
TEST(ManyEntriesTest, TheOnlyMatchingPatternDecides) {
  const std::vector<Entry> entries = ManyForOneTool(100);
  auto allow = MustCompile(Mode::kAllowList, entries);
  auto deny = MustCompile(Mode::kDenyList, entries);
  Struct args = Args(R"({"path":"/srv/data57/reports/q3.csv","limit":10})");

  Decision d = allow->Check("read_file", &args);
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ(d.entry_index, 57);
  EXPECT_EQ(d.condition_index, -1);
  EXPECT_EQ(d.reason, "allowed by pattern 'read_.*' (conditions hold)");
  ExpectSameDecision(
      d, EntryByEntry(Mode::kAllowList, entries, "read_file", &args), "allow");
  auto [failed, runs] = CheckWithSetsFailing(*allow, "read_file", &args);
  EXPECT_GE(runs, 1);  // the set was asked, and the patterns alone answered
  ExpectSameDecision(failed, d, "allow, the set failing");

  d = deny->Check("read_file", &args);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.entry_index, 57);
  EXPECT_EQ(d.condition_index, -1);
  EXPECT_EQ(d.reason, "denied by pattern 'read_.*' (conditions hold)");
  ExpectSameDecision(CheckWithSetsFailing(*deny, "read_file", &args).first, d,
                     "deny, the set failing");

  // Entry 56 names the tool exactly; its pattern alone matches.
  args = Args(R"({"path":"/srv/data56/a","limit":1000})");
  d = allow->Check("read_file", &args);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.entry_index, 56);
  EXPECT_EQ(d.reason, "allowed by tool name 'read_file' (conditions hold)");

  // No pattern matches: the first entry and its path condition decide.
  args = Args(R"({"path":"/srv/data570/../../etc/passwd","limit":10})");
  d = allow->Check("read_file", &args);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.entry_index, 0);
  EXPECT_EQ(d.condition_index, 1);
  EXPECT_EQ(d.reason,
            "not on the allow list: tool name 'read_file' matched, but its "
            "condition 1 ('/path' matches '/srv/data0(/[^/.][^/]*)+') did not "
            "hold");
  ExpectSameDecision(CheckWithSetsFailing(*allow, "read_file", &args).first, d,
                     "no match, the set failing");
  d = deny->Check("read_file", &args);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.entry_index, 0);
  EXPECT_EQ(d.condition_index, 1);

  // A path that is no string: the wrong type, never a match for an allow
  // entry, always one for a deny entry (the first, then).
  args = Args(R"({"path":["/srv/data57/x"],"limit":10})");
  d = allow->Check("read_file", &args);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.entry_index, 0);
  EXPECT_EQ(d.condition_index, 1);
  d = deny->Check("read_file", &args);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.entry_index, 0);
  EXPECT_EQ(d.condition_index, 1);
  EXPECT_THAT(d.reason, HasSubstr("found a value of another type"));

  // The limit fails in every entry: no set is needed at all.
  args = Args(R"({"path":"/srv/data57/x","limit":1001})");
  d = allow->Check("read_file", &args);
  EXPECT_EQ(d.entry_index, 0);
  EXPECT_EQ(d.condition_index, 0);
  EXPECT_EQ(CheckWithSetsFailing(*allow, "read_file", &args).second, 0);
}

// Entries sharing a pattern share its answer; a pattern the set repeats is
// one member of it.
TEST(ManyEntriesTest, RepeatedPatternsAndTwoPatternsOnly) {
  std::vector<Entry> entries;
  for (int i = 0; i < 20; ++i) {
    entries.push_back(
        {"t",
         false,
         {Matches("/p", i == 13 ? "b+" : "a+"), Range("/n", i, i)}});
  }
  auto policy = MustCompile(Mode::kAllowList, entries);
  for (const char* json :
       {R"({"p":"aaa","n":13})", R"({"p":"bb","n":13})", R"({"p":"aaa","n":7})",
        R"({"p":"c","n":7})", R"({"p":"bb","n":7})"}) {
    Struct args = Args(json);
    const Decision want = EntryByEntry(Mode::kAllowList, entries, "t", &args);
    ExpectSameDecision(policy->Check("t", &args), want, json);
    auto [failed, runs] = CheckWithSetsFailing(*policy, "t", &args);
    ExpectSameDecision(failed, want, json);
    // Two distinct patterns are matched alone, without the set.
    EXPECT_EQ(runs, 0) << json;
  }
}

// Patterns that each compile but are too large for one set together are
// matched one by one: the policy is not refused, and decides the same.
TEST(ManyEntriesTest, PatternsTooLargeForOneSetAreMatchedAlone) {
  std::vector<Entry> entries;
  for (int i = 0; i < 10; ++i) {
    entries.push_back(
        {"t", false, {Matches("/p", absl::StrCat("\\pL{10}", i))}});
  }
  auto policy = MustCompile(Mode::kAllowList, entries);
  ASSERT_NE(policy, nullptr);
  Struct args = Args(R"({"p":"abcdefghij7"})");
  const Decision d = policy->Check("t", &args);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.entry_index, 7);
  auto [failed, runs] = CheckWithSetsFailing(*policy, "t", &args);
  EXPECT_EQ(runs, 0);  // there is no set to run
  ExpectSameDecision(failed, d, "too large");
}

// Random policies over a few pointers (escaped, nested, in arrays, the
// arguments object itself) and every kind of condition, against random
// arguments: the same decisions, entry and condition indexes and reasons
// as each entry alone gives, with the pattern sets and without them.
TEST(ManyEntriesTest, MixedPointersDecideAsEntryByEntry) {
  const std::vector<std::string> pointers = {"/p",   "/q",   "/a~1b",
                                             "/a/b", "/r/0", ""};
  const std::vector<std::string> patterns = {
      "x.*", ".*y", "xy", "[a-z]+", "x", "y+", "(x|y)*z", ".*", "(?s).*\n.*"};
  const std::vector<std::string> calls = {
      R"({})",
      R"({"p":"xy","q":"xxy","a/b":"x","a":{"b":"zz"},"r":["xyz"]})",
      R"({"p":"x","q":5,"a/b":["x"],"a":{"b":"y"},"r":["x", 1]})",
      R"({"p":["x"],"q":"yyy","a":{"b":7},"r":[true]})",
      R"({"p":"zzz","q":"y","a/b":"xy","r":"x"})",
      R"({"p":"x\ny","q":null,"a":"b","r":[null]})",
      R"({"p":5,"q":"xyz","a/b":"y","a":{"b":"xy"},"r":["yz"]})",
  };
  std::mt19937 random(24);
  auto pick = [&](size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(random);
  };
  int set_runs = 0;
  for (int round = 0; round < 20; ++round) {
    std::vector<Entry> entries;
    while (entries.size() < 40) {
      Entry e{pick(4) == 0 ? "[ab]" : (pick(2) == 0 ? "a" : "b"), false, {}};
      e.is_regex = e.pattern == "[ab]";
      const size_t count = 1 + pick(3);
      for (size_t j = 0; j < count; ++j) {
        const std::string& pointer = pointers[pick(pointers.size())];
        switch (pick(6)) {
          case 0:
          case 1:
          case 2:
            e.conditions.push_back(
                Matches(pointer, patterns[pick(patterns.size())]));
            break;
          case 3:
            e.conditions.push_back(OneOf(pointer, {Str("x"), Num(1)}));
            break;
          case 4:
            e.conditions.push_back(Range(pointer, 0, 10));
            break;
          default:
            e.conditions.push_back(Absent(pointer));
        }
      }
      // Conflicting conditions are refused: draw again.
      if (CompiledPolicy::Compile(Mode::kAllowList, {e}).ok()) {
        entries.push_back(e);
      }
    }
    for (Mode mode : {Mode::kAllowList, Mode::kDenyList}) {
      auto policy = MustCompile(mode, entries);
      ASSERT_NE(policy, nullptr);
      for (const char* tool : {"a", "b", "c"}) {
        for (size_t k = 0; k <= calls.size(); ++k) {
          Struct args;
          if (k < calls.size()) args = Args(calls[k]);
          const Struct* arguments = k < calls.size() ? &args : nullptr;
          const std::string what =
              absl::StrCat("round ", round, " ", ModeName(mode), " ", tool, " ",
                           k < calls.size() ? calls[k] : "no arguments");
          const Decision want = EntryByEntry(mode, entries, tool, arguments);
          ExpectSameDecision(policy->Check(tool, arguments), want, what);
          auto [failed, runs] = CheckWithSetsFailing(*policy, tool, arguments);
          ExpectSameDecision(failed, want, what + " (sets failing)");
          set_runs += runs;
        }
      }
    }
  }
  EXPECT_GT(set_runs, 0);  // the sets were used, not only the patterns alone
}

// The entries a name matches are taken in entry order across every word of
// the set that holds them (64 entries a word), whether named exactly, by a
// pattern that many entries repeat, or by a pattern of their own.
TEST(ManyEntriesTest, EntriesAreTriedInOrderUpToTheLimit) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < kMaxEntries; ++i) {
    Entry e = i % 3 == 0   ? Entry{"t", false}
              : i % 3 == 1 ? Entry{"[st]", true}
                           : Entry{absl::StrCat("t|x", i), true};
    e.conditions = {
        Range("/n", static_cast<double>(i), static_cast<double>(i))};
    entries.push_back(e);
  }
  for (Mode mode : {Mode::kAllowList, Mode::kDenyList}) {
    auto policy = MustCompile(mode, entries);
    ASSERT_NE(policy, nullptr);
    for (int n :
         {0, 1, 2, 63, 64, 65, 127, 128, 191, 192, 255, 256, 498, 499}) {
      Struct args;
      (*args.mutable_fields())["n"].set_number_value(n);
      const Decision d = policy->Check("t", &args);
      EXPECT_EQ(d.allowed, mode == Mode::kAllowList) << n;
      EXPECT_EQ(d.entry_index, n);
      EXPECT_EQ(d.condition_index, -1);
    }
    Struct args = Args(R"({"n":500})");
    const Decision d = policy->Check("t", &args);
    EXPECT_EQ(d.allowed, mode == Mode::kDenyList);
    EXPECT_EQ(d.entry_index, 0);
    EXPECT_EQ(d.condition_index, 0);
    // "s": only the repeated pattern; the first is entry 1.
    EXPECT_EQ(policy->Check("s", &args).entry_index, 1);
    EXPECT_TRUE(policy->MayList("t"));
  }
  // The last entry ('[st]') without conditions denies every call of t and
  // s; x5 only has entry 5, with its condition.
  entries.back().conditions.clear();
  auto deny = MustCompile(Mode::kDenyList, entries);
  EXPECT_FALSE(deny->MayList("t"));
  EXPECT_FALSE(deny->MayList("s"));
  EXPECT_TRUE(deny->MayList("x5"));
  EXPECT_EQ(deny->Check("t").entry_index, static_cast<int>(kMaxEntries) - 1);
}

// More shared pointers and set members than a call keeps on its stack (8
// slots, 512 members' bits): the same decisions from the heap.
TEST(ManyEntriesTest, ManySharedPointersAndMembers) {
  std::vector<Entry> entries;
  for (int i = 0; i < 300; ++i) {
    entries.push_back({"t",
                       false,
                       {Matches("/a", absl::StrCat("a", i)),
                        Matches("/b", absl::StrCat("b", i % 290)),
                        Range(absl::StrCat("/p", i % 10), 0, 1)}});
  }
  auto policy = MustCompile(Mode::kAllowList, entries);
  ASSERT_NE(policy, nullptr);
  for (const char* json :
       {R"({"a":"a250","b":"b250","p0":0,"p1":0,"p2":0,"p3":0,"p4":0,)"
        R"("p5":0,"p6":0,"p7":0,"p8":0,"p9":0})",
        R"({"a":"a295","b":"b5","p0":1,"p1":1,"p2":1,"p3":1,"p4":1,)"
        R"("p5":1,"p6":1,"p7":1,"p8":1,"p9":1})",
        R"({"a":"a295","b":"b6","p5":1})"}) {
    Struct args = Args(json);
    const Decision want = EntryByEntry(Mode::kAllowList, entries, "t", &args);
    ExpectSameDecision(policy->Check("t", &args), want, json);
    auto [failed, runs] = CheckWithSetsFailing(*policy, "t", &args);
    EXPECT_GE(runs, 1) << json;
    ExpectSameDecision(failed, want, json);
  }
  Struct args =
      Args(R"({"a":"a250","b":"b250","p0":0,"p1":0,"p2":0,"p3":0,"p4":0,)"
           R"("p5":0,"p6":0,"p7":0,"p8":0,"p9":0})");
  EXPECT_EQ(policy->Check("t", &args).entry_index, 250);
}

TEST(ConditionCompileTest, AcceptsWhatDoesNotConflict) {
  EXPECT_TRUE(CompiledPolicy::Compile(
                  Mode::kAllowList,
                  {{"t",
                    false,
                    {Absent("/opts/mode"), Matches("/opts", "x"), Absent("/a"),
                     Absent("/a/b"), Matches("/p", "[a-z]+"),
                     OneOf("/p", {Str("abc"), Str("d")}), Range("/n", 1, 1),
                     Absent("/a~1b"), Absent("/p2")}}})
                  .ok());
  std::vector<ArgumentCondition> sixteen;
  for (size_t i = 0; i < kMaxConditionsPerEntry; ++i) {
    sixteen.push_back(Absent(absl::StrCat("/x", i)));
  }
  EXPECT_TRUE(
      CompiledPolicy::Compile(Mode::kDenyList, {{"t", false, sixteen}}).ok());
}

}  // namespace
}  // namespace mcpreg::policy
