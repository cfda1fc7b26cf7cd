// The REST port's connections, under the host's limits. cpp-httplib (Debian's
// 0.11) parses and routes each request, but its own connection handling
// caps nothing: no limit on connections or on the number of header fields,
// no time limit on a request as a whole (only on each read), a chunked body
// read whatever its size, and a response sent in two writes, the second held
// by Nagle's algorithm until the client's delayed ACK (~40 ms). So this layer
// takes each accepted socket, through the hook cpp-httplib's own TLS server
// uses (process_and_close_socket), and feeds the library one request at a
// time from a buffer it has already checked; the library writes its answer
// into a buffer this layer sends in one write. docs/rest.md ("Connections
// and limits") has the rules; docs/security.md the threats.
#ifndef MCPREG_HOST_REST_CONNECTIONS_H_
#define MCPREG_HOST_REST_CONNECTIONS_H_

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/time/time.h"
#include "mcpreg/config/v1/host_config.pb.h"

namespace mcpreg::host {

struct RestLimits {
  size_t max_connections = 256;
  size_t max_header_count = 100;
  size_t max_header_bytes = 32 * 1024;
  size_t max_body_bytes = 4 * 1024 * 1024;
  absl::Duration header_timeout = absl::Seconds(10);
  absl::Duration body_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Seconds(5);

  // From a configuration whose defaults are applied (ApplyHostDefaults).
  static RestLimits FromConfig(const config::v1::HostConfig& config);
};

// A kept-alive connection is closed after this many requests, so that long
// lived clients spread over replicas again now and then.
inline constexpr size_t kMaxRequestsPerConnection = 1000;

// The body of an error answered by this layer itself: the gateway's JSON
// error for a gRPC status code and message.
using ErrorBodyFn = std::function<std::string(int code, const std::string&)>;

// Lets cpp-httplib answer the one request whose head `stream` holds
// (Server::process_request): `close` has it answer "Connection: close";
// it sets `closed` when the client asked for that.
using ProcessRequestFn =
    std::function<bool(httplib::Stream& stream, bool close, bool& closed)>;

class RestConnections {
 public:
  RestConnections(const RestLimits& limits, ErrorBodyFn error_body);
  ~RestConnections();  // Shutdown()
  RestConnections(const RestConnections&) = delete;
  RestConnections& operator=(const RestConnections&) = delete;

  // Takes an accepted socket (and closes it, in the end). A thread of the
  // layer's own serves it — with TLS when `tls` is set — or, with
  // max_connections already being served, it is answered 503 and closed at
  // once. Never blocks: called on the accepting thread.
  void Accept(int sock, SSL_CTX* tls, ProcessRequestFn process);

  // Closes connections waiting for a next request at once, lets requests
  // already begun finish (each within its time limits), joins the threads.
  // Call it once nothing calls Accept any more.
  void Shutdown();

 private:
  class Threads;

  void Serve(int sock, SSL_CTX* tls, const ProcessRequestFn& process);
  void Refuse(int sock, SSL_CTX* tls);

  const RestLimits limits_;
  const ErrorBodyFn error_body_;
  const int stop_fd_;  // an eventfd, readable once Shutdown begins
  std::atomic<bool> stopping_{false};
  std::unique_ptr<Threads> threads_;
  // Refusals at the cap, logged now and then (on the accepting thread).
  std::atomic<int64_t> refused_{0};
  absl::Time next_cap_log_ = absl::InfinitePast();
};

// A cpp-httplib server (httplib::Server, or httplib::SSLServer for TLS) whose
// accepted sockets go to `connections`, which must outlive its listening.
template <typename Base>
class LimitedServer final : public Base {
 public:
  template <typename... Args>
  explicit LimitedServer(RestConnections* connections, Args&&... args)
      : Base(std::forward<Args>(args)...), connections_(connections) {
    // The accepting thread hands each socket over, without a queue: the
    // connection cap is decided there, not by how long a queue has grown.
    this->new_task_queue = [] { return new InlineTaskQueue(); };
  }

  // cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG,
  // fixed in Debian's build): connections arriving in a burst beyond it wait
  // for their SYN to be sent again, a second or more. Once bound, this
  // listens again with the system's maximum (Linux takes the new backlog).
  bool RaiseListenBacklog() {
    return ::listen(this->svr_sock_, SOMAXCONN) == 0;
  }

 private:
  class InlineTaskQueue final : public httplib::TaskQueue {
   public:
    void enqueue(std::function<void()> fn) override { fn(); }
    void shutdown() override {}
  };

  // cpp-httplib's hook for a socket it has accepted (private and virtual in
  // httplib::Server, overridden by its SSLServer the same way).
  bool process_and_close_socket(socket_t sock) override {
    SSL_CTX* tls = nullptr;
    if constexpr (std::is_base_of_v<httplib::SSLServer, Base>) {
      tls = this->ssl_context();
    }
    connections_->Accept(
        sock, tls, [this](httplib::Stream& stream, bool close, bool& closed) {
          return this->process_request(stream, close, closed, nullptr);
        });
    return true;
  }

  RestConnections* const connections_;
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_REST_CONNECTIONS_H_
