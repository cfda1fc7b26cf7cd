#include "bench/process_cpu.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mcpreg::bench {
namespace {

// The fields of /proc/PID/stat that matter here, in clock ticks.
struct ProcStat {
  pid_t parent = -1;
  long long own = 0;       // utime + stime: all of the process's threads
  long long children = 0;  // cutime + cstime: children it has reaped
};

bool ReadProcStat(pid_t pid, ProcStat& out) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return false;
  // The command name (field 2) may hold blanks and parentheses; the fields
  // after its closing parenthesis are plain numbers.
  const size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return false;
  std::istringstream fields(line.substr(close + 2));
  std::string f[15];  // fields 3 (state) to 17 (cstime)
  for (std::string& s : f) {
    if (!(fields >> s)) return false;
  }
  long long utime, stime, cutime, cstime;
  int parent;
  if (!absl::SimpleAtoi(f[1], &parent) || !absl::SimpleAtoi(f[11], &utime) ||
      !absl::SimpleAtoi(f[12], &stime) || !absl::SimpleAtoi(f[13], &cutime) ||
      !absl::SimpleAtoi(f[14], &cstime)) {
    return false;
  }
  out = {parent, utime + stime, cutime + cstime};
  return true;
}

double Seconds(const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; }

}  // namespace

CpuSeconds ReadCpu(pid_t server, pid_t postmaster) {
  static const double kTicksPerSecond = sysconf(_SC_CLK_TCK);
  CpuSeconds out;
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  out.client = Seconds(self.ru_utime) + Seconds(self.ru_stime) +
               Seconds(children.ru_utime) + Seconds(children.ru_stime);
  ProcStat stat;
  if (server > 0 && ReadProcStat(server, stat)) {
    out.server = stat.own / kTicksPerSecond;
  }
  if (postmaster <= 0 || !ReadProcStat(postmaster, stat)) return out;
  // Backends that exited were reaped by the postmaster: their time is in
  // its children's total. Live ones are read one by one.
  long long ticks = stat.own + stat.children;
  if (DIR* proc = opendir("/proc")) {
    while (const dirent* entry = readdir(proc)) {
      int pid;
      if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
      if (ReadProcStat(pid, stat) && stat.parent == postmaster) {
        ticks += stat.own;
      }
    }
    closedir(proc);
  }
  out.postgres = ticks / kTicksPerSecond;
  return out;
}

}  // namespace mcpreg::bench
