// The libpq connection under a libpqxx 6 transaction, for what libpqxx 6
// does not wrap: pipeline mode (pipelined_commit.h) and cancel keys
// (call_interrupt.h).
#ifndef MCPREG_STORAGE_PG_LIBPQ_CONNECTION_H_
#define MCPREG_STORAGE_PG_LIBPQ_CONNECTION_H_

#include <libpq-fe.h>

#include <pqxx/largeobject>
#include <pqxx/pqxx>

namespace mcpreg::storage::pg {

// libpqxx's large-object class is the one way it offers to reach a
// transaction's libpq connection.
class LibpqConnection : public pqxx::largeobject {
 public:
  static PGconn* Of(const pqxx::dbtransaction& txn) {
    return raw_connection(txn);
  }
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_LIBPQ_CONNECTION_H_
