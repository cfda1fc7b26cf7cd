// The guard's enforcement: an MCP stdio proxy (newline-delimited JSON-RPC
// 2.0 both ways) between an IDE and the server it launched. Every tools/call
// is checked with the registry before it is forwarded, and a refused one
// never reaches the server; every tools/list page is filtered to the tools
// the caller may use. Everything else passes through unchanged, in both
// directions, with many requests in flight. It fails closed: a call the
// registry could not be asked about is refused, not forwarded.
#ifndef MCPREG_CLI_GUARD_MCP_PROXY_H_
#define MCPREG_CLI_GUARD_MCP_PROXY_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

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
  virtual ~ToolGate() = default;
  virtual absl::StatusOr<Decision> Check(const std::string& tool) = 0;
  // The tools of `tools` the caller may use, in their order.
  virtual absl::StatusOr<std::vector<std::string>> Allowed(
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
