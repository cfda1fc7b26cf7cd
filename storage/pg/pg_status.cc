#include "storage/pg/pg_status.h"

#include <cstring>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mcpreg::storage::pg {
namespace {

// The first line of a libpq message (the rest is context and hints).
std::string FirstLineOf(const char* text) {
  std::string s(text);
  const size_t eol = s.find('\n');
  return eol == std::string::npos ? s : s.substr(0, eol);
}

// SQLSTATE 57014: a statement_timeout (ours, from the call's deadline, or
// the database's own if shorter), or pg_cancel_backend.
bool IsQueryCanceled(const pqxx::sql_error& e) {
  return e.sqlstate() == "57014";
}

// The server going away, reported as an error rather than a closed socket:
// class 08 (connection exception) and 57P01-57P05 (shut down by an operator
// or a crash, starting up, database dropped, idle session timeout). A
// statement in flight when PostgreSQL stops gets 57P01; one sent after, a
// broken connection. Both are the same outage to the caller.
bool IsServerGone(const pqxx::sql_error& e) {
  const std::string& state = e.sqlstate();
  return state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0;
}

absl::Status WithDetail(absl::Status status, const char* what) {
  return WithErrorDetail(std::move(status), FirstLineOf(what));
}

}  // namespace

std::string WithConnectTimeout(const std::string& conninfo, int seconds) {
  if (conninfo.find("connect_timeout") != std::string::npos) return conninfo;
  const std::string setting = absl::StrCat("connect_timeout=", seconds);
  if (absl::StartsWith(conninfo, "postgresql://") ||
      absl::StartsWith(conninfo, "postgres://")) {
    return absl::StrCat(
        conninfo, conninfo.find('?') == std::string::npos ? "?" : "&", setting);
  }
  return absl::StrCat(conninfo, conninfo.empty() ? "" : " ", setting);
}

absl::Status StatusFromException(const std::exception& e,
                                 absl::string_view what) {
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat(
        what,
        ": the database connection broke during COMMIT, so whether it "
        "took effect is unknown; read the record back before retrying"));
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return WithDetail(
        absl::UnavailableError(absl::StrCat(
            what, ": database unavailable; nothing was written, retry later")),
        e.what());
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return absl::AbortedError(
        absl::StrCat(what, ": conflicted with a concurrent change; retry"));
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat(what, ": already exists"));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    if (IsServerGone(*sql)) {
      return WithDetail(
          absl::UnavailableError(absl::StrCat(
              what,
              ": database unavailable; retry later, reading the record back "
              "first if the call changes data")),
          e.what());
    }
    if (IsQueryCanceled(*sql)) {
      return absl::DeadlineExceededError(
          absl::StrCat(what,
                       ": the database cancelled a statement: it ran out of "
                       "time (the call's deadline or a shorter "
                       "statement_timeout) or an operator cancelled it"));
    }
    return WithDetail(absl::InternalError(absl::StrCat(
                          what, ": database error ", sql->sqlstate())),
                      e.what());
  }
  return WithDetail(absl::InternalError(absl::StrCat(what, ": internal error")),
                    e.what());
}

bool IsConnectionLost(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return true;
  }
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  return sql != nullptr && IsServerGone(*sql);
}

bool IsRetryable(const std::exception& e) {
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) return false;
  return dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr ||
         dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr;
}

}  // namespace mcpreg::storage::pg
