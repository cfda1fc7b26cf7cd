// Closed-loop load for the benchmarks: N threads each calling as soon as
// the previous call returned, for a while, with latency percentiles and
// each party's CPU per call (process_cpu.h).
#ifndef MCPREG_BENCH_CLOSED_LOOP_H_
#define MCPREG_BENCH_CLOSED_LOOP_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/process_cpu.h"

namespace mcpreg::bench {

struct Result {
  std::string name;
  int64_t calls = 0;
  int64_t errors = 0;
  std::string first_error;  // what the first failed call said, if any
  double seconds = 0;
  std::vector<int64_t> micros;  // sorted
  CpuSeconds cpu;               // spent by each party during the run
  double throughput() const { return seconds > 0 ? calls / seconds : 0; }
  double Percentile(double p) const {
    if (micros.empty()) return 0;
    size_t i = static_cast<size_t>(p * (micros.size() - 1));
    return micros[i] / 1000.0;
  }
};

// Adds one round's figures to a workload's total.
void Merge(const Result& round, Result& total);

// Runs `call` from `concurrency` threads for `duration`.
Result Run(const std::string& name, int concurrency, absl::Duration duration,
           const std::function<CpuSeconds()>& read_cpu,
           const std::function<grpc::Status(int thread, int64_t i)>& call);

// What each party spent per call: on shared cores, what bounds the figure.
void PrintCpu(const CpuSeconds& cpu, double calls, absl::string_view server);

// Throughput, percentiles, errors and CPU per call, on one line each.
void Print(const Result& r, absl::string_view server = "host");

}  // namespace mcpreg::bench

#endif  // MCPREG_BENCH_CLOSED_LOOP_H_
