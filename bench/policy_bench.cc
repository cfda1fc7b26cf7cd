// Policy evaluation on the hot path: one CheckToolCall decision against a
// compiled policy of 100 entries (half exact names, half RE2 patterns).
// Target: <= 1 us per decision by name alone, <= 2 us with argument
// conditions (issue 24).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "policy/tool_policy.h"

namespace {

std::shared_ptr<const mcpreg::policy::CompiledPolicy> HundredEntries(
    mcpreg::policy::Mode mode) {
  std::vector<mcpreg::policy::Entry> entries;
  for (int i = 0; i < 50; ++i) {
    entries.push_back({absl::StrCat("tool_", i, "_exact"), false});
    entries.push_back(
        {absl::StrCat("(read|list)_", i, "_[a-z]+(_v[0-9]+)?"), true});
  }
  return *mcpreg::policy::CompiledPolicy::Compile(mode, entries);
}

void BM_CheckExactHit(benchmark::State& state) {
  auto policy = HundredEntries(mcpreg::policy::Mode::kAllowList);
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->Check("tool_42_exact"));
  }
}
BENCHMARK(BM_CheckExactHit);

void BM_CheckRegexHit(benchmark::State& state) {
  auto policy = HundredEntries(mcpreg::policy::Mode::kAllowList);
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->Check("read_42_documents_v2"));
  }
}
BENCHMARK(BM_CheckRegexHit);

void BM_CheckMiss(benchmark::State& state) {
  auto policy = HundredEntries(mcpreg::policy::Mode::kDenyList);
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->Check("delete_everything_now"));
  }
}
BENCHMARK(BM_CheckMiss);

void BM_CheckLongName(benchmark::State& state) {
  auto policy = HundredEntries(mcpreg::policy::Mode::kAllowList);
  const std::string name = "list_7_" + std::string(200, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(policy->Check(name));
}
BENCHMARK(BM_CheckLongName);

// --- With argument conditions -----------------------------------------------

using mcpreg::policy::ArgumentCondition;

ArgumentCondition Condition(std::string pointer, ArgumentCondition::Kind kind) {
  ArgumentCondition c;
  c.pointer = std::move(pointer);
  c.kind = kind;
  return c;
}

// 100 entries, every one with conditions: the exact names keep /path under
// /srv/data and /limit within [0, 1000]; the patterns take /mode from a set
// of three, odd ones also a nested /options/depth range. Entries 100..104
// repeat tool_42_exact with conditions that fail, for the worst case of a
// name matched by several entries.
std::shared_ptr<const mcpreg::policy::CompiledPolicy> HundredWithConditions(
    mcpreg::policy::Mode mode) {
  using Kind = ArgumentCondition::Kind;
  std::vector<mcpreg::policy::Entry> entries;
  for (int i = 0; i < 50; ++i) {
    ArgumentCondition path = Condition("/path", Kind::kMatches);
    path.pattern = "/srv/data/[^/.][^/]*(/[^/.][^/]*)*";
    ArgumentCondition limit = Condition("/limit", Kind::kRange);
    limit.min = 0;
    limit.max = 1000;
    entries.push_back(
        {absl::StrCat("tool_", i, "_exact"), false, {path, limit}});
    ArgumentCondition mode_set = Condition("/mode", Kind::kOneOf);
    for (const char* m : {"r", "w", "a"}) {
      mode_set.one_of.emplace_back().set_string_value(m);
    }
    std::vector<ArgumentCondition> conditions = {mode_set};
    if (i % 2 == 1) {
      ArgumentCondition depth = Condition("/options/depth", Kind::kRange);
      depth.max = 8;
      conditions.push_back(depth);
    }
    entries.push_back({absl::StrCat("(read|list)_", i, "_[a-z]+(_v[0-9]+)?"),
                       true, conditions});
  }
  return *mcpreg::policy::CompiledPolicy::Compile(mode, entries);
}

google::protobuf::Struct Arguments(const std::string& json) {
  google::protobuf::Struct s;
  (void)google::protobuf::util::JsonStringToMessage(json, &s);
  return s;
}

void CheckWith(benchmark::State& state, mcpreg::policy::Mode mode,
               const std::string& tool, const std::string& json,
               bool expect_allowed) {
  auto policy = HundredWithConditions(mode);
  const google::protobuf::Struct args = Arguments(json);
  if (policy->Check(tool, &args).allowed != expect_allowed) {
    state.SkipWithError(policy->Check(tool, &args).reason.c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(policy->Check(tool, &args));
}

void BM_ConditionsExactHit(benchmark::State& state) {
  CheckWith(state, mcpreg::policy::Mode::kAllowList, "tool_42_exact",
            R"({"path":"/srv/data/reports/2024/q3.csv","limit":100,)"
            R"("query":"revenue by region"})",
            true);
}
BENCHMARK(BM_ConditionsExactHit);

void BM_ConditionsExactMissOnPath(benchmark::State& state) {
  CheckWith(state, mcpreg::policy::Mode::kAllowList, "tool_42_exact",
            R"({"path":"/srv/data/../../etc/shadow","limit":100})", false);
}
BENCHMARK(BM_ConditionsExactMissOnPath);

void BM_ConditionsExactMissingValue(benchmark::State& state) {
  CheckWith(state, mcpreg::policy::Mode::kAllowList, "tool_42_exact",
            R"({"limit":100})", false);
}
BENCHMARK(BM_ConditionsExactMissingValue);

void BM_ConditionsRegexHit(benchmark::State& state) {
  CheckWith(state, mcpreg::policy::Mode::kAllowList, "read_43_documents_v2",
            R"({"mode":"w","options":{"depth":3,"follow":false}})", true);
}
BENCHMARK(BM_ConditionsRegexHit);

void BM_ConditionsRegexMissOnRange(benchmark::State& state) {
  CheckWith(state, mcpreg::policy::Mode::kAllowList, "read_43_documents_v2",
            R"({"mode":"w","options":{"depth":30}})", false);
}
BENCHMARK(BM_ConditionsRegexMissOnRange);

void BM_ConditionsNameMiss(benchmark::State& state) {
  CheckWith(state, mcpreg::policy::Mode::kAllowList, "delete_everything_now",
            R"({"path":"/srv/data/x"})", false);
}
BENCHMARK(BM_ConditionsNameMiss);

void BM_ConditionsDenyListHit(benchmark::State& state) {
  CheckWith(state, mcpreg::policy::Mode::kDenyList, "tool_7_exact",
            R"({"path":"/srv/data/x","limit":5})", false);
}
BENCHMARK(BM_ConditionsDenyListHit);

void BM_ConditionsDenyListPasses(benchmark::State& state) {
  CheckWith(state, mcpreg::policy::Mode::kDenyList, "tool_7_exact",
            R"({"path":"/tmp/x","limit":5})", true);
}
BENCHMARK(BM_ConditionsDenyListPasses);

// A 100-entry policy in which state.range(0) entries name the tool (half
// exactly, half by pattern), and the conditions of every one fail: each is
// tested before the answer, so the cost grows with the count (about one RE2
// match per entry).
void BM_ConditionsManyEntriesForOneName(benchmark::State& state) {
  using Kind = ArgumentCondition::Kind;
  std::vector<mcpreg::policy::Entry> entries;
  for (int i = 0; i < 100; ++i) {
    if (i >= state.range(0)) {
      entries.push_back({absl::StrCat("tool_", i, "_exact"), false});
      continue;
    }
    ArgumentCondition path = Condition("/path", Kind::kMatches);
    path.pattern = absl::StrCat("/srv/data", i, "/[^/.][^/]*(/[^/.][^/]*)*");
    ArgumentCondition limit = Condition("/limit", Kind::kRange);
    limit.max = 1000;
    entries.push_back(
        {i % 2 == 0 ? "read_file" : "read_.*", i % 2 == 1, {limit, path}});
  }
  auto policy = *mcpreg::policy::CompiledPolicy::Compile(
      mcpreg::policy::Mode::kAllowList, entries);
  const google::protobuf::Struct args =
      Arguments(R"({"path":"/etc/passwd","limit":10})");
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->Check("read_file", &args));
  }
}
BENCHMARK(BM_ConditionsManyEntriesForOneName)->Arg(2)->Arg(10)->Arg(100);

void BM_MayList(benchmark::State& state) {
  auto policy = HundredWithConditions(mcpreg::policy::Mode::kDenyList);
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->MayList("read_42_documents_v2"));
  }
}
BENCHMARK(BM_MayList);

}  // namespace

BENCHMARK_MAIN();
