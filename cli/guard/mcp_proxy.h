// The guard's enforcement: an MCP stdio proxy (newline-delimited JSON-RPC
// 2.0 both ways) between an IDE and the server it launched. Every tools/call
// is checked with the registry — with its arguments and the digest of the
// tool's current definition — before it is forwarded, and a refused one
// never reaches the server; every tools/list page is filtered to the tools
// the caller may use, and its definitions reported. Everything else passes
// through unchanged, in both directions, with many requests in flight. It
// fails closed: a call the registry could not be asked about, or whose
// tool's current definition the guard could not learn, is refused, not
// forwarded.
#ifndef MCPREG_CLI_GUARD_MCP_PROXY_H_
#define MCPREG_CLI_GUARD_MCP_PROXY_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mcpreg::cli {

// What the proxy asks of the registry (RegistryPolicy on gRPC; tests fake
// it). Called from worker threads, concurrently. NOT_FOUND from either
// means the server is no longer registered.
class ToolGate {
 public:
  struct Decision {
    bool allowed = false;
    std::string reason;
  };
  // One tool of a tools/list answer, as the registry judged it.
  struct ListedTool {
    std::string name;
    bool allowed = false;  // may the client see (and try) it
    // The digest of its definition, sent back with each call of it.
    std::string digest;
  };
  virtual ~ToolGate() = default;
  // May `tool` be called with `arguments_json` (the call's params.arguments
  // as JSON text; "" for none)? `digest` is the tool's definition digest as
  // this session last saw it ("" when it never saw one).
  virtual absl::StatusOr<Decision> Check(const std::string& tool,
                                         const std::string& arguments_json,
                                         const std::string& digest) = 0;
  // Judges the tools of one tools/list page: `tools` holds each entry (a
  // JSON object with at least "name") as JSON text. The answer has one
  // element per entry, in order. The registry records the definitions.
  virtual absl::StatusOr<std::vector<ListedTool>> Filter(
      const std::vector<std::string>& tools) = 0;
  // The MCP client, from its initialize request, for the audit log.
  virtual void SetClient(const std::string& name,
                         const std::string& version) = 0;
};

struct ProxyOutcome {
  enum class Why {
    kClientClosed,  // the IDE closed stdin: a normal end
    kServerExited,  // the server ended (or crashed) first
    kServerBroken,  // the server wrote something that is not JSON-RPC
    kUnregistered,  // the registry no longer has the server
  };
  Why why = Why::kClientClosed;
  std::string message;  // for the guard's stderr
};

struct ProxyOptions {
  std::string display_name;  // for messages: "npm:ai-npm-local:simple-mcp"
  int workers = 8;           // checks and filters in flight at once
  size_t max_line_bytes = 64 << 20;
  std::function<void(const std::string&)> log;  // one line to stderr
  // Called when the server has not exited 3 s after the session ended and
  // its stdin was closed: stop it (the caller owns the process).
  std::function<void()> stop_server;
  // When a call needs the tools' current definitions and the guard lists
  // them itself: how long the server has for all pages (else the call is
  // refused), and how many pages it may use.
  absl::Duration list_timeout = absl::Seconds(10);
  int max_list_pages = 100;
};

// Proxies between the IDE (`client_in`, `client_out`) and the server
// (`server_in`, `server_out`) until one of ProxyOutcome's reasons. It
// closes `server_in` when it ends so that the server sees EOF; the caller
// owns the descriptors and the server process.
ProxyOutcome RunMcpProxy(ToolGate& gate, int client_in, int client_out,
                         int server_in, int server_out,
                         const ProxyOptions& options);

}  // namespace mcpreg::cli

#endif  // MCPREG_CLI_GUARD_MCP_PROXY_H_
