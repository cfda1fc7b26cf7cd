#include "cli/guard/mcp_proxy.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "cli/guard/tool_definitions_session.h"

namespace mcpreg::cli {
namespace {

using nlohmann::json;

// JSON-RPC error codes. A refused tool is, to this client, a tool that does
// not exist (it was filtered out of tools/list), and the MCP specification
// reports calls of unknown tools as protocol errors with -32602; anything
// that keeps the guard from deciding is an internal error (-32603).
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

// Deeper messages are refused: nesting is never needed that deep, and
// copying or writing out JSON recurses once per level.
constexpr size_t kMaxDepth = 512;

// How deeply `value` nests (a scalar is 0), without recursing: the input is
// not trusted.
size_t Depth(const json& value) {
  size_t deepest = 0;
  std::vector<std::pair<const json*, size_t>> stack = {{&value, 0}};
  while (!stack.empty()) {
    const auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const json& child : *v) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

// A string member of an object, or "" (for any other shape: never throws).
std::string StringMember(const json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// A member of an object, or null.
json Member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it != object.end() ? *it : json();
}

// Writes whole lines to a descriptor, one writer at a time.
class LineWriter {
 public:
  explicit LineWriter(int fd) : fd_(fd) {}
  // False once the other side is gone.
  bool Write(const std::string& line) {
    absl::MutexLock lock(&mu_);
    if (fd_ < 0) return false;
    std::string out = line + "\n";
    const char* p = out.data();
    size_t left = out.size();
    while (left > 0) {
      const ssize_t n = write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      p += n;
      left -= static_cast<size_t>(n);
    }
    return true;
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_);
};

// Splits a descriptor's bytes into lines.
class LineReader {
 public:
  LineReader(int fd, size_t max_line) : fd_(fd), max_line_(max_line) {}

  // The next complete line already read, if any.
  bool TakeLine(std::string* line) {
    const size_t nl = buffer_.find('\n');
    if (nl == std::string::npos) return false;
    *line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (!line->empty() && line->back() == '\r') line->pop_back();
    return true;
  }
  // One read(): false at the end of input (a last line without its newline
  // is then in `*last`), or when the unfinished line is over the limit.
  bool ReadSome(std::string* last, bool* too_long) {
    *too_long = buffer_.size() > max_line_;
    if (*too_long) return false;
    char chunk[1 << 16];
    ssize_t n;
    do {
      n = read(fd_, chunk, sizeof(chunk));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      *last = std::move(buffer_);
      buffer_.clear();
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

 private:
  const int fd_;
  const size_t max_line_;
  std::string buffer_;
};

// A fixed set of threads running queued jobs (registry calls).
class Workers {
 public:
  explicit Workers(int count) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([this] { Loop(); });
    }
  }
  ~Workers() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (auto& t : threads_) t.join();
  }
  void Submit(std::function<void()> job) {
    absl::MutexLock lock(&mu_);
    jobs_.push_back(std::move(job));
  }
  // Returns once every job submitted so far has finished.
  void WaitIdle() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Workers* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
          return w->jobs_.empty() && w->running_ == 0;
        },
        this));
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> job;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Workers* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
              return w->stopping_ || !w->jobs_.empty();
            },
            this));
        if (jobs_.empty()) return;  // stopping, and nothing left
        job = std::move(jobs_.front());
        jobs_.pop_front();
        ++running_;
      }
      job();
      absl::MutexLock lock(&mu_);
      --running_;
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

// Whether `value` holds an integer a double cannot represent exactly. The
// registry judges numbers as doubles (protobuf's Struct) while the server
// gets the exact integer; past 2^53 the two could differ.
bool HasInexactInteger(const json& value) {
  constexpr uint64_t kExact = uint64_t{1} << 53;
  std::vector<const json*> pending = {&value};
  while (!pending.empty()) {
    const json* v = pending.back();
    pending.pop_back();
    if (v->is_number_unsigned()) {
      if (v->get<uint64_t>() > kExact) return true;
    } else if (v->is_number_integer()) {
      const int64_t i = v->get<int64_t>();
      if (i > static_cast<int64_t>(kExact) ||
          i < -static_cast<int64_t>(kExact)) {
        return true;
      }
    } else if (v->is_structured()) {
      for (const json& child : *v) pending.push_back(&child);
    }
  }
  return false;
}

json ErrorResponse(const json& id, int code, const std::string& message,
                   json data = nullptr) {
  json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = std::move(data);
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

class Proxy {
 public:
  Proxy(ToolGate& gate, int client_in, int client_out, int server_in,
        int server_out, const ProxyOptions& options)
      : gate_(gate),
        options_(options),
        client_in_(client_in),
        server_out_(server_out),
        to_client_(client_out),
        to_server_(server_in),
        guard_requests_([this](const std::string& line) {
          return to_server_.Write(line);
        }) {
    if (pipe(wake_) != 0) wake_[0] = wake_[1] = -1;
  }
  ~Proxy() {
    if (wake_[0] >= 0) close(wake_[0]);
    if (wake_[1] >= 0) close(wake_[1]);
  }

  ProxyOutcome Run() {
    {
      Workers workers(options_.workers);
      workers_ = &workers;
      absl::Notification server_done;
      std::thread server_reader([this, &server_done] {
        ReadServer();
        guard_requests_.ServerGone("the MCP server exited");
        server_done.Notify();
      });
      ReadClient();
      // The client is done sending: the calls it sent are checked and
      // forwarded first, so that their answers still reach it. Then the
      // server sees EOF and should exit; one that does not within the grace
      // period is stopped.
      if (ended_by_client()) workers.WaitIdle();
      to_server_.Close();
      if (!server_done.WaitForNotificationWithTimeout(absl::Seconds(3)) &&
          options_.stop_server) {
        options_.stop_server();
      }
      server_reader.join();
      workers_ = nullptr;
    }  // the workers finish their jobs first
    absl::MutexLock lock(&mu_);
    return *outcome_;
  }

 private:
  // Ends the session for `why`, unless something already did.
  void Stop(ProxyOutcome::Why why, const std::string& message) {
    {
      absl::MutexLock lock(&mu_);
      if (outcome_.has_value()) return;
      outcome_ = ProxyOutcome{why, message};
    }
    if (wake_[1] >= 0) (void)!write(wake_[1], "x", 1);
  }
  bool stopped() {
    absl::MutexLock lock(&mu_);
    return outcome_.has_value();
  }
  bool ended_by_client() {
    absl::MutexLock lock(&mu_);
    return outcome_.has_value() &&
           outcome_->why == ProxyOutcome::Why::kClientClosed;
  }

  // --- from the IDE ------------------------------------------------------

  void ReadClient() {
    LineReader reader(client_in_, options_.max_line_bytes);
    for (;;) {
      // Wait for input or for the session to end elsewhere.
      pollfd fds[2] = {{client_in_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0 || stopped()) return;
      if (fds[0].revents == 0) continue;
      std::string line;
      bool too_long = false;
      const bool more = reader.ReadSome(&line, &too_long);
      if (too_long) {
        to_client_.Write(
            ErrorResponse(nullptr, kInvalidRequest, "message too long").dump());
        Stop(ProxyOutcome::Why::kClientClosed, "the client sent too much");
        return;
      }
      if (!more) {
        if (!line.empty()) FromClient(line);
        Stop(ProxyOutcome::Why::kClientClosed, "");
        return;
      }
      while (reader.TakeLine(&line)) {
        if (!line.empty()) FromClient(line);
      }
    }
  }

  void FromClient(const std::string& line) {
    json message = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded()) {
      to_client_.Write(
          ErrorResponse(nullptr, kParseError, "not JSON: parse error").dump());
      return;
    }
    if (message.is_array()) {
      // A batch could carry tools/call past the checks; MCP no longer has
      // batches (2025-06-18), so they are refused as a whole.
      to_client_.Write(ErrorResponse(nullptr, kInvalidRequest,
                                     "JSON-RPC batches are not supported")
                           .dump());
      return;
    }
    if (Depth(message) > kMaxDepth) {
      to_client_.Write(ErrorResponse(nullptr, kInvalidRequest,
                                     absl::StrCat("nested more than ",
                                                  kMaxDepth, " levels deep"))
                           .dump());
      return;
    }
    if (!message.is_object() || !message.contains("method")) {
      to_server_.Write(line);  // a response to the server's own request
      return;
    }
    const std::string method = message["method"].is_string()
                                   ? message["method"].get<std::string>()
                                   : "";
    if (!message.contains("id")) {
      to_server_.Write(line);  // a notification
      return;
    }
    const json id = message["id"];
    if (GuardRequests::IsGuardId(id)) {
      // Its answer would be taken for the guard's own.
      to_client_.Write(
          ErrorResponse(
              id, kInvalidRequest,
              absl::StrCat("ids beginning with '", GuardRequests::kIdPrefix,
                           "' are reserved for mcpreg guard"))
              .dump());
      return;
    }
    if (method == "initialize") {
      const json info = Member(Member(message, "params"), "clientInfo");
      gate_.SetClient(StringMember(info, "name"),
                      StringMember(info, "version"));
    }
    if (method == "tools/call") {
      workers_->Submit([this, id, message = std::move(message)] {
        CheckThenForward(id, message);
      });
      return;
    }
    Forward(id, method, line);
  }

  void Forward(const json& id, const std::string& method,
               const std::string& line) {
    {
      absl::MutexLock lock(&mu_);
      pending_[id.dump()] = method;
    }
    if (!to_server_.Write(line)) {
      Answered(id);
      to_client_.Write(
          ErrorResponse(id, kInternalError, "the MCP server is gone").dump());
    }
  }

  void CheckThenForward(const json& id, const json& message) {
    const json params = Member(message, "params");
    const std::string tool = StringMember(params, "name");
    if (tool.empty()) {
      to_client_.Write(
          ErrorResponse(id, kInvalidParams, "params.name: the tool is required")
              .dump());
      return;
    }
    std::string arguments;  // "" when the call has none
    if (params.contains("arguments")) {
      if (!params["arguments"].is_object()) {
        to_client_.Write(ErrorResponse(id, kInvalidParams,
                                       "params.arguments: must be an object")
                             .dump());
        return;
      }
      if (HasInexactInteger(params["arguments"])) {
        to_client_.Write(
            ErrorResponse(id, kInvalidParams,
                          "params.arguments: an integer beyond 2^53 cannot be "
                          "checked exactly; send it as a string")
                .dump());
        return;
      }
      arguments = params["arguments"].dump();
    }
    absl::StatusOr<std::string> digest =
        definitions_.CurrentDigest(tool, [this] {
          return ListServerTools(guard_requests_, gate_,
                                 absl::Now() + options_.list_timeout,
                                 options_.max_list_pages);
        });
    if (!digest.ok()) {
      Refused(id, tool, digest.status());
      return;
    }
    absl::StatusOr<ToolGate::Decision> decision =
        gate_.Check(tool, arguments, *digest);
    if (!decision.ok()) {
      if (decision.status().code() == absl::StatusCode::kInvalidArgument) {
        // The call itself is at fault (arguments too large or too deep for
        // the registry, say): the client's error to fix, not the guard's.
        to_client_.Write(
            ErrorResponse(
                id, kInvalidParams,
                absl::StrCat("the call of '", tool, "' was not forwarded: ",
                             decision.status().message()),
                {{"tool", tool}, {"server", options_.display_name}})
                .dump());
        return;
      }
      Refused(id, tool, decision.status());
      return;
    }
    if (!decision->allowed) {
      to_client_.Write(
          ErrorResponse(
              id, kInvalidParams,
              absl::StrCat("Tool '", tool, "' of ", options_.display_name,
                           " is not allowed by the registry's tool policy: ",
                           decision->reason),
              {{"tool", tool},
               {"server", options_.display_name},
               {"reason", decision->reason}})
              .dump());
      return;
    }
    // The call as parsed, not as received: the server gets exactly the
    // arguments the registry judged (with a duplicate key, say, there is
    // no second reading of the line for the server to disagree with).
    Forward(id, "tools/call", message.dump());
  }

  // The registry could not decide: the call is not forwarded. When the
  // server is no longer registered, the session ends too.
  void Refused(const json& id, const std::string& what,
               const absl::Status& status) {
    if (status.code() == absl::StatusCode::kNotFound) {
      const std::string message = absl::StrCat(
          options_.display_name,
          " is no longer registered; the guard refuses its calls and ends "
          "this session (",
          status.message(), ")");
      to_client_.Write(ErrorResponse(id, kInternalError, message).dump());
      to_client_.Write(json{
          {"jsonrpc", "2.0"},
          {"method", "notifications/message"},
          {"params",
           {{"level", "error"}, {"logger", "mcpreg-guard"}, {"data", message}}}}
                           .dump());
      Stop(ProxyOutcome::Why::kUnregistered, message);
      return;
    }
    if (IsServerSideError(status)) {
      to_client_.Write(
          ErrorResponse(
              id, kInternalError,
              absl::StrCat("mcpreg could not learn the current definition of '",
                           what, "' (", status.message(),
                           "); nothing was forwarded: the guard fails closed"))
              .dump());
      return;
    }
    to_client_.Write(
        ErrorResponse(
            id, kInternalError,
            absl::StrCat("mcpreg could not ask the registry about '", what,
                         "' (", status.message(),
                         "); nothing was forwarded: the guard fails closed"))
            .dump());
  }

  // --- from the server ---------------------------------------------------

  void ReadServer() {
    LineReader reader(server_out_, options_.max_line_bytes);
    for (;;) {
      std::string line;
      while (reader.TakeLine(&line)) {
        if (!line.empty() && !FromServerLine(line)) return;
      }
      bool too_long = false;
      if (!reader.ReadSome(&line, &too_long)) {
        if (too_long) {
          Broken("a line longer than the limit");
          return;
        }
        if (!line.empty() && !FromServerLine(line)) return;
        Stop(ProxyOutcome::Why::kServerExited, "the MCP server exited");
        FailPending("the MCP server exited before answering");
        return;
      }
    }
  }

  // False when the line ended the session.
  bool FromServerLine(const std::string& line) {
    json message = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded() || !message.is_object()) {
      Broken(absl::StrCat("something that is not JSON-RPC: ",
                          line.substr(0, 120)));
      return false;
    }
    if (Depth(message) > kMaxDepth) {
      Broken(absl::StrCat("a message nested more than ", kMaxDepth,
                          " levels deep"));
      return false;
    }
    FromServer(line, std::move(message));
    return true;
  }

  void Broken(const std::string& what) {
    const std::string message =
        absl::StrCat("the MCP server wrote ", what, "; the session ends");
    // The outcome first: once a pending call's error reaches the client, it
    // may close stdin, and the session must still end as the server's fault.
    Stop(ProxyOutcome::Why::kServerBroken, message);
    FailPending(message);
  }

  void FromServer(const std::string& line, json message) {
    if (message.contains("method") || !message.contains("id")) {
      if (message.contains("method") &&
          message["method"] == "notifications/tools/list_changed") {
        // Before the client hears of it: its next call must not be checked
        // against a definition that may be gone.
        definitions_.MarkChanged();
      }
      to_client_.Write(line);  // the server's request or notification
      return;
    }
    const json id = message["id"];
    if (GuardRequests::IsGuardId(id)) {
      // The client cannot use such ids: an answer to the guard's own
      // request, never the client's business, even late.
      guard_requests_.Answer(id.get<std::string>(), std::move(message));
      return;
    }
    const std::optional<std::string> method = Answered(id);
    if (method == "tools/list" && message.contains("result") &&
        message["result"].is_object() && message["result"].contains("tools") &&
        message["result"]["tools"].is_array()) {
      // Read here, in the order of the server's output: a change announced
      // after this answer makes what it shows out of date.
      const int64_t generation = definitions_.generation();
      workers_->Submit(
          [this, id, generation, message = std::move(message)]() mutable {
            FilterThenAnswer(id, std::move(message), generation);
          });
      return;
    }
    to_client_.Write(line);
  }

  void FilterThenAnswer(const json& id, json message, int64_t generation) {
    json& tools = message["result"]["tools"];
    absl::StatusOr<std::vector<JudgedTool>> judged = JudgeTools(gate_, tools);
    if (!judged.ok()) {
      Refused(id, "tools/list", judged.status());
      return;
    }
    // Every tool's digest is remembered, the hidden ones' too: a client
    // that calls one anyway is checked against what the server showed.
    std::vector<ToolGate::ListedTool> seen;
    json kept = json::array();
    for (JudgedTool& j : *judged) {
      if (j.tool.allowed) kept.push_back(std::move(tools[j.index]));
      seen.push_back(std::move(j.tool));
    }
    definitions_.Record(seen, generation);
    tools = std::move(kept);
    to_client_.Write(message.dump());
  }

  // Forgets a forwarded request; its method, if it was one.
  std::optional<std::string> Answered(const json& id) {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(id.dump());
    if (it == pending_.end()) return std::nullopt;
    std::string method = std::move(it->second);
    pending_.erase(it);
    return method;
  }

  void FailPending(const std::string& why) {
    guard_requests_.ServerGone(why);
    std::map<std::string, std::string> pending;
    {
      absl::MutexLock lock(&mu_);
      pending.swap(pending_);
    }
    for (const auto& [id, method] : pending) {
      to_client_.Write(
          ErrorResponse(json::parse(id), kInternalError, why).dump());
    }
  }

  ToolGate& gate_;
  const ProxyOptions& options_;
  const int client_in_;
  const int server_out_;
  LineWriter to_client_;
  LineWriter to_server_;
  GuardRequests guard_requests_;
  ToolDefinitionsSession definitions_;
  int wake_[2] = {-1, -1};
  Workers* workers_ = nullptr;
  absl::Mutex mu_;
  // Requests forwarded to the server and not yet answered: id -> method.
  std::map<std::string, std::string> pending_ ABSL_GUARDED_BY(mu_);
  std::optional<ProxyOutcome> outcome_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

ProxyOutcome RunMcpProxy(ToolGate& gate, int client_in, int client_out,
                         int server_in, int server_out,
                         const ProxyOptions& options) {
  return Proxy(gate, client_in, client_out, server_in, server_out, options)
      .Run();
}

}  // namespace mcpreg::cli
