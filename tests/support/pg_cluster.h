// A private PostgreSQL 15 cluster for one test binary: initdb into a fresh
// temporary directory owned by the postgres user (the server refuses to run
// as root), listening on a unix socket in that directory only. Stopped and
// removed by the destructor; nothing is left running.
#ifndef MCPREG_TESTS_SUPPORT_PG_CLUSTER_H_
#define MCPREG_TESTS_SUPPORT_PG_CLUSTER_H_

#include <sys/types.h>

#include <string>

namespace mcpreg::testing {

class PgCluster {
 public:
  // initdb + start; aborts the test binary if that fails. Tests run with
  // fsync off (speed); `durable` keeps PostgreSQL's production default (fsync
  // on), for benchmarks whose commits must cost what they cost in service.
  explicit PgCluster(bool durable = false);
  ~PgCluster();  // stop + remove

  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A new empty database; returns its libpq connection string.
  std::string CreateDatabase(const std::string& name);
  std::string Conninfo(const std::string& database) const;

  // Stop (mode "fast" or "immediate", as pg_ctl) and start again, for fault
  // tests. Both wait until done.
  void Stop(const std::string& mode = "fast");
  void Start();

  // Runs SQL as the superuser (the database owner), returning psql's exit code.
  int Psql(const std::string& database, const std::string& sql) const;

  // The running server's process id (from postmaster.pid), or -1; its
  // backends are its children. For the benchmark's CPU accounting.
  pid_t ServerPid() const;

 private:
  std::string AsPostgres(const std::string& command) const;

  std::string dir_;
  std::string bin_;
  int port_ = 0;
  bool durable_ = false;
};

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_PG_CLUSTER_H_
