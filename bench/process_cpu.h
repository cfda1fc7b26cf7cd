// CPU time spent by the three parties of a benchmark run — the load
// generator, the server under test (mcpreg-host or the bare echo server) and
// PostgreSQL — read from /proc and getrusage. When all three share the
// machine's cores, a throughput ratio between two workloads is the ratio of
// their total CPU per call; printing each party's share per call shows what
// bounds a figure.
#ifndef MCPREG_BENCH_PROCESS_CPU_H_
#define MCPREG_BENCH_PROCESS_CPU_H_

#include <sys/types.h>

namespace mcpreg::bench {

struct CpuSeconds {
  double client = 0;    // this process and the children it has waited for
  double server = 0;    // the server process, all its threads
  double postgres = 0;  // the postmaster and every backend, live or reaped

  CpuSeconds operator-(const CpuSeconds& o) const {
    return {client - o.client, server - o.server, postgres - o.postgres};
  }
  CpuSeconds operator+(const CpuSeconds& o) const {
    return {client + o.client, server + o.server, postgres + o.postgres};
  }
};

// Cumulative CPU (user + system) so far. `server` or `postmaster` may be -1
// (not measured: 0).
CpuSeconds ReadCpu(pid_t server, pid_t postmaster);

}  // namespace mcpreg::bench

#endif  // MCPREG_BENCH_PROCESS_CPU_H_
