// The one place a libpqxx exception becomes an absl::Status, so every store
// reports database trouble the same way: a lost connection is UNAVAILABLE
// (retryable), a commit whose outcome is unknown says so, a statement timeout
// is DEADLINE_EXCEEDED. libpq's own words (host names, addresses, ports,
// socket paths) never go in the message, which callers see: they travel as
// a payload (storage/error_detail.h) for the operator's log.
#ifndef MCPREG_STORAGE_PG_PG_STATUS_H_
#define MCPREG_STORAGE_PG_PG_STATUS_H_

#include <exception>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/error_detail.h"

namespace mcpreg::storage::pg {

// `what` says what was being done ("registering mcp-server").
absl::Status StatusFromException(const std::exception& e,
                                 absl::string_view what);

// `conninfo` (key=value or a postgresql:// URI) with connect_timeout set to
// `seconds` unless it sets one: libpq waits forever by default.
std::string WithConnectTimeout(const std::string& conninfo, int seconds);

// True when the connection cannot be used again: it broke, or the server
// said it is going away (shutdown, crash, restart). Such a lease is
// discarded, not pooled.
bool IsConnectionLost(const std::exception& e);

// True for failures where retrying the whole transaction is safe: the
// database rolled it back (serialization failure, deadlock) or the connection
// broke before COMMIT was sent.
bool IsRetryable(const std::exception& e);

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_PG_STATUS_H_
