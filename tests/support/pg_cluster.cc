#include "tests/support/pg_cluster.h"

#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace mcpreg::testing {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

void Run(const std::string& command) {
  if (std::system(command.c_str()) != 0) {
    std::cerr << "pg_cluster: command failed: " << command << std::endl;
    std::abort();
  }
}

std::string PgBin() {
  const char* env = std::getenv("MCPREG_PG_BIN");
  if (env != nullptr) return env;
  return "/usr/lib/postgresql/15/bin";
}

// Clusters whose test binary died without its destructors (killed by a
// timeout, a crash, Ctrl-C) are still running. Each cluster directory names
// its owner's pid; stop and remove those whose owner is gone.
void ReapOrphanedClusters(const std::string& bin) {
  const std::string script = absl::StrCat(
      "for d in /tmp/mcpreg-pg-*; do "
      "  [ -f \"$d/owner.pid\" ] || continue; "
      "  pid=$(cat \"$d/owner.pid\" 2>/dev/null); "
      "  [ -n \"$pid\" ] || continue; "
      "  kill -0 \"$pid\" 2>/dev/null && continue; "
      "  ",
      geteuid() == 0 ? "runuser -u postgres -- " : "", bin,
      "/pg_ctl -D \"$d/data\" -m immediate -w stop >/dev/null 2>&1; "
      "  rm -rf \"$d\"; "
      "done");
  (void)std::system(absl::StrCat("sh -c '", script, "'").c_str());
}

}  // namespace

PgCluster::PgCluster(bool durable)
    : bin_(PgBin()), port_(FreePort()), durable_(durable) {
  ReapOrphanedClusters(bin_);
  char tmpl[] = "/tmp/mcpreg-pg-XXXXXX";
  dir_ = mkdtemp(tmpl);
  // Written whole, then renamed into place: a reaper never reads it half
  // written. (Clusters in other pid namespaces sharing /tmp are not
  // supported: their owners look dead from here.)
  std::ofstream(dir_ + "/owner.pid.tmp") << getpid() << "\n";
  std::rename((dir_ + "/owner.pid.tmp").c_str(), (dir_ + "/owner.pid").c_str());
  if (geteuid() == 0) {
    // The postgres user must own the cluster and reach it.
    Run(absl::StrCat("chown postgres:postgres ", dir_, " && chmod 700 ", dir_));
  }
  Run(AsPostgres(absl::StrCat(bin_, "/initdb -D ", dir_,
                              "/data -U postgres -A trust --no-sync "
                              "-E UTF8 --locale=C.UTF-8 >",
                              dir_, "/initdb.log 2>&1")));
  Start();
}

PgCluster::~PgCluster() {
  std::system(AsPostgres(absl::StrCat(bin_, "/pg_ctl -D ", dir_,
                                      "/data -m immediate -w stop "
                                      ">/dev/null 2>&1"))
                  .c_str());
  std::system(absl::StrCat("rm -rf ", dir_).c_str());
}

std::string PgCluster::AsPostgres(const std::string& command) const {
  if (geteuid() != 0) return command;
  return absl::StrCat("runuser -u postgres -- sh -c '", command, "'");
}

void PgCluster::Start() {
  // Unix socket only (listen_addresses=''); fsync off unless durable: tests
  // need speed, and the fault tests stop the server cleanly or check what was
  // acknowledged.
  Run(AsPostgres(
      absl::StrCat(bin_, "/pg_ctl -D ", dir_, "/data -l ", dir_,
                   "/server.log -w -t 60 -o \"-p ", port_, " -k ", dir_,
                   " -c listen_addresses= -c fsync=", durable_ ? "on" : "off",
                   " -c max_connections=200\" start >/dev/null")));
}

void PgCluster::Stop(const std::string& mode) {
  Run(AsPostgres(absl::StrCat(bin_, "/pg_ctl -D ", dir_, "/data -m ", mode,
                              " -w -t 60 stop >/dev/null")));
}

std::string PgCluster::Conninfo(const std::string& database) const {
  return absl::StrCat("host=", dir_, " port=", port_,
                      " user=postgres dbname=", database, " connect_timeout=5");
}

std::string PgCluster::CreateDatabase(const std::string& name) {
  Run(AsPostgres(absl::StrCat(bin_, "/createdb -h ", dir_, " -p ", port_,
                              " -U postgres ", name)));
  return Conninfo(name);
}

pid_t PgCluster::ServerPid() const {
  std::ifstream in(absl::StrCat(dir_, "/data/postmaster.pid"));
  pid_t pid = -1;
  if (!(in >> pid)) return -1;
  return pid;
}

int PgCluster::Psql(const std::string& database, const std::string& sql) const {
  const std::string file = absl::StrCat(dir_, "/q-", getpid(), ".sql");
  std::ofstream(file) << sql;
  if (geteuid() == 0) {
    std::system(absl::StrCat("chown postgres ", file).c_str());
  }
  const int rc = std::system(
      AsPostgres(absl::StrCat(bin_, "/psql -X -q -v ON_ERROR_STOP=1 -h ", dir_,
                              " -p ", port_, " -U postgres -d ", database,
                              " -f ", file, " >/dev/null 2>&1"))
          .c_str());
  unlink(file.c_str());
  return rc;
}

}  // namespace mcpreg::testing
