// A transaction's last statements sent with its COMMIT in one libpq
// pipeline (libpqxx 6 does not wrap pipeline mode): one round trip, and the
// server runs them back to back. What came back says whether COMMIT ran.
#ifndef MCPREG_STORAGE_PG_PIPELINED_COMMIT_H_
#define MCPREG_STORAGE_PG_PIPELINED_COMMIT_H_

#include <libpq-fe.h>

#include <string>
#include <vector>

namespace mcpreg::storage::pg {

// A prepared statement (already prepared on the connection) and its text
// parameters.
struct PreparedCall {
  std::string name;
  std::vector<std::string> params;
};

struct PipelinedCommit {
  enum class Outcome {
    kCommitted,
    // COMMIT did not run or failed; the connection is usable, out of
    // pipeline mode, and may still be inside the (aborted) transaction.
    kFailed,
    // The connection is lost, or unusable, and COMMIT provably did not run:
    // nothing was written.
    kNotRun,
    // The connection was lost once COMMIT may have run.
    kInDoubt,
  };
  Outcome outcome = Outcome::kInDoubt;
  // The first error: its SQLSTATE ("" when libpq's own), message, and the
  // statement that raised it ("COMMIT" or a prepared statement's name).
  std::string sqlstate;
  std::string message;
  std::string statement;
};

// Sends `statements` and COMMIT in one pipeline on `pg`, which must be idle
// inside a transaction block, and reads every result.
PipelinedCommit CommitInPipeline(PGconn* pg,
                                 const std::vector<PreparedCall>& statements);

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_PIPELINED_COMMIT_H_
