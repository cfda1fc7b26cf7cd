#include "pg_status.h"

#include <cstring>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"

namespace mcpreg::storage::pg {
namespace {

// SQLSTATE 57014: the statement_timeout we set from the call's deadline.
bool IsQueryCanceled(const pqxx::sql_error& e) {
  return e.sqlstate() == "57014";
}

std::string FirstLine(const char* text) {
  std::string s(text);
  const size_t eol = s.find('\n');
  return eol == std::string::npos ? s : s.substr(0, eol);
}

}  // namespace

absl::Status StatusFromException(const std::exception& e,
                                 absl::string_view what) {
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat(
        what,
        ": the database connection broke during COMMIT, so whether it "
        "took effect is unknown; read the record back before retrying"));
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError(
        absl::StrCat(what, ": database unavailable (", FirstLine(e.what()),
                     "); nothing was written, retry later"));
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return absl::AbortedError(
        absl::StrCat(what, ": conflicted with a concurrent change; retry"));
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat(what, ": already exists"));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    if (IsQueryCanceled(*sql)) {
      return absl::DeadlineExceededError(
          absl::StrCat(what, ": the call's deadline passed in the database"));
    }
    return absl::InternalError(absl::StrCat(
        what, ": database error ", sql->sqlstate(), ": ", FirstLine(e.what())));
  }
  return absl::InternalError(absl::StrCat(what, ": ", FirstLine(e.what())));
}

bool IsRetryable(const std::exception& e) {
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) return false;
  return dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr ||
         dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr;
}

}  // namespace mcpreg::storage::pg
