// What one guard session knows of its server's tool definitions, and how it
// learns them when it must. The registry pins a tool to the digest of its
// definition (FilterToolsResponse.definitions); each tools/call is checked
// with the digest of the definition the server currently shows. The proxy
// learns digests from the client's tools/list answers, and when those are
// not current (none seen yet, or the server said its tools changed since) it
// lists the tools itself, with requests of its own the client never sees.
#ifndef MCPREG_CLI_GUARD_TOOL_DEFINITIONS_SESSION_H_
#define MCPREG_CLI_GUARD_TOOL_DEFINITIONS_SESSION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cli/guard/mcp_proxy.h"

namespace mcpreg::cli {

// The digests of the tools' definitions, current as of the server's last
// notifications/tools/list_changed. Thread-safe.
class ToolDefinitionsSession {
 public:
  // Lists all of the server's tools now, each as the registry judged it.
  using ListAll =
      std::function<absl::StatusOr<std::vector<ToolGate::ListedTool>>()>;

  // The server said its tools changed: nothing learned so far is current.
  void MarkChanged();
  // To pass to Record for a listing the server has just sent: the listing
  // is current only if no change was announced after this is read.
  int64_t generation();
  // Learns from one page of a tools/list answer the client asked for.
  void Record(const std::vector<ToolGate::ListedTool>& tools,
              int64_t generation);
  // The digest of `tool`'s current definition; "" when the server's current
  // listing does not have the tool. When what is known is not current, the
  // tools are listed first with `list_all`; calls arriving meanwhile wait
  // for that one listing rather than start their own. A failed listing's
  // error is returned to every call that waited for it.
  absl::StatusOr<std::string> CurrentDigest(const std::string& tool,
                                            const ListAll& list_all);

 private:
  struct Known {
    std::string digest;
    int64_t generation = 0;  // of the listing it came from
  };
  // A complete listing at `generation` replaces what is older.
  void Replace(const std::vector<ToolGate::ListedTool>& tools,
               int64_t generation) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // changes announced
  // The generation of the last complete listing (all pages), -1 for none.
  int64_t complete_ ABSL_GUARDED_BY(mu_) = -1;
  std::map<std::string, Known> known_ ABSL_GUARDED_BY(mu_);
  // The one listing in flight, if any.
  bool listing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t listing_generation_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t listings_started_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t listings_done_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_listing_ ABSL_GUARDED_BY(mu_);
};

// Requests the guard itself sends to the server. Their ids begin with
// kIdPrefix, so that their answers are told apart from the client's and
// never reach it (not even late ones). Thread-safe.
class GuardRequests {
 public:
  static constexpr char kIdPrefix[] = "mcpreg-guard-";
  // Whether `id` has the guard's form: the client may not use such ids.
  static bool IsGuardId(const nlohmann::json& id);

  // `write` sends one line to the server; false when it is gone.
  explicit GuardRequests(std::function<bool(const std::string&)> write)
      : write_(std::move(write)) {}

  // Sends a request and waits for its answer (a whole JSON-RPC response,
  // result or error) until `deadline`.
  absl::StatusOr<nlohmann::json> Ask(const std::string& method,
                                     nlohmann::json params,
                                     absl::Time deadline);
  // An answer from the server with a guard id: for its request, if one
  // still waits; otherwise dropped.
  void Answer(const std::string& id, nlohmann::json message);
  // The server will answer nothing more (`why`, for the waiting requests).
  void ServerGone(const std::string& why);

 private:
  const std::function<bool(const std::string&)> write_;
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, std::optional<nlohmann::json>> waiting_
      ABSL_GUARDED_BY(mu_);
  std::optional<std::string> gone_ ABSL_GUARDED_BY(mu_);
};

// One entry of a tools/list page as the registry judged it.
struct JudgedTool {
  size_t index = 0;  // in the page's "tools" array
  ToolGate::ListedTool tool;
};

// Asks `gate` about the entries of a page's "tools" array that can be
// called (objects with a non-empty string "name"), in order; the others
// are left out of the answer (and so out of what the client sees).
absl::StatusOr<std::vector<JudgedTool>> JudgeTools(ToolGate& gate,
                                                   const nlohmann::json& tools);

// Lists all of the server's tools with the guard's own tools/list requests,
// following nextCursor for at most `max_pages` pages, each page judged by
// `gate` (so that the registry records the definitions). Errors that come
// from the server rather than the registry are marked (IsServerSideError).
absl::StatusOr<std::vector<ToolGate::ListedTool>> ListServerTools(
    GuardRequests& requests, ToolGate& gate, absl::Time deadline,
    int max_pages);

// Whether a status from ListServerTools is the server's fault (it did not
// answer, answered with an error, or paged without end) — so not the
// registry's, and not a sign that the server was unregistered.
bool IsServerSideError(const absl::Status& status);

}  // namespace mcpreg::cli

#endif  // MCPREG_CLI_GUARD_TOOL_DEFINITIONS_SESSION_H_
