// Every place mcpreg reaches past libpqxx 6's public API, in one file: the
// libpq connection under a transaction (for pipeline mode and cancel keys,
// which libpqxx 6 does not wrap), a transaction class built on its internal
// basic_transaction, and its SQLSTATE-to-exception map. Another major
// version of libpqxx changes all three; this file refuses to build against
// one rather than misbehave.
#ifndef MCPREG_STORAGE_PG_LIBPQXX6_H_
#define MCPREG_STORAGE_PG_LIBPQXX6_H_

#include <libpq-fe.h>

#include <pqxx/largeobject>
#include <pqxx/pqxx>
#include <pqxx/version>
#include <string>
#include <vector>

#include "storage/pg/pipelined_commit.h"

#if !defined(PQXX_VERSION_MAJOR) || PQXX_VERSION_MAJOR != 6
#error \
    "storage/pg/libpqxx6.h uses libpqxx 6's internals (basic_transaction, largeobject::raw_connection, result.cxx's error map); port it to this libpqxx first"
#endif

namespace mcpreg::storage::pg {

// libpqxx's large-object class is the one way it offers to reach a
// transaction's libpq connection.
class LibpqConnection : public pqxx::largeobject {
 public:
  static PGconn* Of(const pqxx::dbtransaction& txn) {
    return raw_connection(txn);
  }
};

// pqxx::work (READ COMMITTED, read-write), but begun with `begin_sql`
// (BEGIN and a SET LOCAL in one message: a separate SET would cost every
// write transaction a round trip). It also commits statements deferred to
// COMMIT (ExecAtCommit), sent with it in one pipeline.
class BoundedWork : public pqxx::internal::basic_transaction {
 public:
  BoundedWork(pqxx::connection_base& c, std::string begin_sql);
  ~BoundedWork() noexcept override;

  // Runs `statement` at commit; prepared now, if this connection has not
  // yet, so that a PREPARE failure fails the work, not the commit.
  void Defer(PreparedCall statement);

 private:
  void do_commit() override;
  void do_begin() override;
  void CommitAlone();
  void CommitWithDeferred();

  const std::string begin_sql_;
  std::vector<PreparedCall> deferred_;
};

// Throws what libpqxx 6.4 throws for a statement that failed with
// `sqlstate` (result.cxx's ThrowSQLError), so that pg_status.h maps it as
// it would any other statement's error.
[[noreturn]] void ThrowAsLibpqxxWould(const std::string& sqlstate,
                                      const std::string& message,
                                      const std::string& statement);

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_LIBPQXX6_H_
