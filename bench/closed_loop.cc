#include "bench/closed_loop.h"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace mcpreg::bench {

void Merge(const Result& round, Result& total) {
  total.name = round.name;
  total.calls += round.calls;
  total.errors += round.errors;
  if (total.first_error.empty()) total.first_error = round.first_error;
  total.seconds += round.seconds;
  total.micros.insert(total.micros.end(), round.micros.begin(),
                      round.micros.end());
  std::sort(total.micros.begin(), total.micros.end());
  total.cpu = total.cpu + round.cpu;
}

// Runs `call` from `concurrency` threads for `duration`.
Result Run(const std::string& name, int concurrency, absl::Duration duration,
           const std::function<CpuSeconds()>& read_cpu,
           const std::function<grpc::Status(int thread, int64_t i)>& call) {
  const CpuSeconds cpu_before = read_cpu();
  std::atomic<bool> stop{false};
  std::vector<std::vector<int64_t>> lat(concurrency);
  std::vector<int64_t> errors(concurrency, 0);
  std::vector<std::string> first_errors(concurrency);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const absl::Time s = absl::Now();
        const grpc::Status status = call(t, i);
        lat[t].push_back(absl::ToInt64Microseconds(absl::Now() - s));
        if (!status.ok() && errors[t]++ == 0) {
          first_errors[t] =
              absl::StrCat(status.error_code(), ": ", status.error_message());
        }
      }
    });
  }
  absl::SleepFor(duration);
  stop = true;
  for (auto& th : threads) th.join();
  Result r;
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.cpu = read_cpu() - cpu_before;
  r.name = name;
  for (int t = 0; t < concurrency; ++t) {
    r.micros.insert(r.micros.end(), lat[t].begin(), lat[t].end());
    r.errors += errors[t];
    if (r.first_error.empty()) r.first_error = first_errors[t];
  }
  r.calls = static_cast<int64_t>(r.micros.size()) - r.errors;
  std::sort(r.micros.begin(), r.micros.end());
  return r;
}

// What each party spent per call: on shared cores, what bounds the figure.
void PrintCpu(const CpuSeconds& cpu, double calls, absl::string_view server) {
  if (calls <= 0) return;
  const double us = 1e6 / calls;
  std::cout << absl::StrFormat(
      "%-34s CPU per call: client %4.0f us, %s %4.0f us, PostgreSQL %4.0f us"
      " (total %4.0f us)\n",
      "", cpu.client * us, server, cpu.server * us, cpu.postgres * us,
      (cpu.client + cpu.server + cpu.postgres) * us);
}

void Print(const Result& r, absl::string_view server) {
  std::cout << absl::StrFormat(
      "%-34s %10.0f/s  p50 %7.2f ms  p99 %7.2f ms  "
      "p999 %7.2f ms  errors %lld\n",
      r.name, r.throughput(), r.Percentile(0.5), r.Percentile(0.99),
      r.Percentile(0.999), static_cast<long long>(r.errors));
  if (!r.first_error.empty()) {
    std::cout << absl::StrFormat("%-34s first error: %s\n", "", r.first_error);
  }
  PrintCpu(r.cpu, static_cast<double>(r.calls + r.errors), server);
}

}  // namespace mcpreg::bench
