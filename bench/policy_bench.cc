// Policy evaluation on the hot path: one CheckToolCall decision against a
// compiled policy of 100 entries (half exact names, half RE2 patterns).
// Target: <= 1 us per decision.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

}  // namespace

BENCHMARK_MAIN();
