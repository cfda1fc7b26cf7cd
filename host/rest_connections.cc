#include "host/rest_connections.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "host/log.h"
#include "mcpreg/plugin_abi.h"

namespace mcpreg::host {
namespace {

// cpp-httplib refuses a request line or a header line longer than this
// (CPPHTTPLIB_REQUEST_URI_MAX_LENGTH, CPPHTTPLIB_HEADER_MAX_LENGTH: fixed
// when Debian built the library, whatever a user of its header defines).
constexpr size_t kMaxLineBytes = 8192;
// A chunked body may take this much on the wire beyond max_body_bytes of
// data: its framing, which is not data (a chunk-size line without end must
// not be read for ever). The data itself is limited by the gateway.
constexpr size_t kChunkedSlackFactor = 2;
constexpr size_t kChunkedSlackBytes = 64 * 1024;
// After an answer that leaves part of a request unread, what is still
// arriving is read and dropped for a moment before the socket closes, so that
// the client gets the answer rather than a reset.
constexpr absl::Duration kLingerTime = absl::Milliseconds(500);
constexpr size_t kLingerBytes = 256 * 1024;
// An answer this layer writes itself is small; a client that does not take
// it within this long is not waited for.
constexpr absl::Duration kRefusalWriteTime = absl::Seconds(1);
constexpr absl::Duration kCapLogInterval = absl::Seconds(10);

const char* Reason(int http_status) {
  switch (http_status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

// An answer this layer gives itself, always closing the connection.
struct Refusal {
  int http_status = 0;
  int code = MCPREG_STATUS_OK;  // the gRPC code named in the JSON error
  std::string message;
};

std::string RefusalResponse(const Refusal& r, const ErrorBodyFn& error_body) {
  const std::string body = error_body(r.code, r.message);
  return absl::StrCat(
      "HTTP/1.1 ", r.http_status, " ", Reason(r.http_status),
      "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(),
      "\r\nConnection: close\r\n",
      r.http_status == 503 ? "Retry-After: 1\r\n" : "", "\r\n", body);
}

// Milliseconds to `deadline` for poll(), at least 0.
int PollMillis(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const int64_t ms = absl::ToInt64Milliseconds(
      absl::Ceil(deadline - absl::Now(), absl::Milliseconds(1)));
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1 << 30));
}

void IpAndPort(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len)) != 0) {
    return;
  }
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (getnameinfo(sa, len, host, sizeof(host), service, sizeof(service),
                  NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = atoi(service);
  }
}

// A write to a client that has gone must fail, not end the process: OpenSSL
// writes with plain write(), which raises SIGPIPE. Blocked in the layer's
// threads only; the signal stays pending, harmlessly.
void BlockSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

enum class Io { kOk, kEof, kTimeout, kStopped, kError };

// One client connection, as the httplib::Stream that cpp-httplib reads a
// request from and writes its answer to. Reads come from a buffer that holds
// the request's whole head before cpp-httplib sees any of it, then its body,
// limited to what the head declared; writes are kept until Flush().
class Connection final : public httplib::Stream {
 public:
  Connection(int fd, int stop_fd) : fd_(fd), stop_fd_(stop_fd) {
    IpAndPort(fd_, true, remote_ip_, remote_port_);
    IpAndPort(fd_, false, local_ip_, local_port_);
  }
  ~Connection() override {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }

  bool StartTls(SSL_CTX* ctx, absl::Time deadline) {
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return false;
    for (;;) {
      ERR_clear_error();
      const int r = SSL_accept(ssl_);
      if (r == 1) return true;
      const int e = SSL_get_error(ssl_, r);
      const short events = e == SSL_ERROR_WANT_READ    ? POLLIN
                           : e == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                       : 0;
      if (events == 0 || Wait(events, deadline, false) != Io::kOk) {
        return false;
      }
    }
  }

  enum class Head { kRequest, kGone, kRefused };

  // Reads the next request's line and header fields, whole, into the buffer.
  // Its first byte must come by `first_byte`; the head must be complete by
  // `deadline`, or, when that is unset, within limits.header_timeout of its
  // first byte. kGone: the client went, stayed idle, or the layer is
  // stopping (close quietly); kRefused: answer `refusal` and close.
  Head ReadHead(absl::Time first_byte, std::optional<absl::Time> deadline,
                const RestLimits& limits, Refusal& refusal) {
    in_.erase(0, pos_);
    pos_ = 0;
    head_end_ = 0;
    content_length_ = 0;
    chunked_ = false;
    body_read_ = 0;
    body_allowed_ = 0;
    timed_out_ = false;
    over_budget_ = false;
    if (in_.empty() && Fill(first_byte, true) != Io::kOk) return Head::kGone;
    const absl::Time head_deadline =
        deadline.value_or(absl::Now() + limits.header_timeout);

    bool has_length = false;
    size_t fields = 0;
    size_t line_start = 0;
    size_t scanned = 0;
    const auto refuse = [&](int http_status, int code, std::string message) {
      refusal = {http_status, code, std::move(message)};
      return Head::kRefused;
    };
    const auto too_long = [&] {
      return line_start == 0
                 ? refuse(414, MCPREG_STATUS_RESOURCE_EXHAUSTED,
                          absl::StrCat("request line: longer than ",
                                       kMaxLineBytes, " bytes"))
                 : refuse(431, MCPREG_STATUS_RESOURCE_EXHAUSTED,
                          absl::StrCat("a request header field: longer than ",
                                       kMaxLineBytes, " bytes"));
    };
    const auto too_large = [&] {
      return refuse(431, MCPREG_STATUS_RESOURCE_EXHAUSTED,
                    absl::StrCat("request header fields: more than ",
                                 limits.max_header_bytes, " bytes in all"));
    };
    for (;;) {
      const size_t nl = in_.find('\n', scanned);
      if (nl == std::string::npos) {
        scanned = in_.size();
        if (in_.size() - line_start >= kMaxLineBytes) return too_long();
        if (in_.size() > limits.max_header_bytes) return too_large();
        switch (Fill(head_deadline, true)) {
          case Io::kOk:
            continue;
          case Io::kTimeout:
            return refuse(
                408, MCPREG_STATUS_DEADLINE_EXCEEDED,
                absl::StrCat("request header fields: not complete "
                             "within ",
                             absl::FormatDuration(limits.header_timeout)));
          default:
            return Head::kGone;
        }
      }
      if (nl + 1 - line_start > kMaxLineBytes) return too_long();
      if (nl + 1 > limits.max_header_bytes) return too_large();
      // As cpp-httplib reads it: lines end with '\n'; the first is the
      // request line; the head ends with the first line that is just CRLF;
      // other lines without CR are skipped (but count here).
      const bool request_line = line_start == 0;
      const absl::string_view line(in_.data() + line_start,
                                   nl + 1 - line_start);
      line_start = scanned = nl + 1;
      if (request_line) continue;
      if (line == "\r\n") break;
      if (++fields > limits.max_header_count) {
        return refuse(431, MCPREG_STATUS_RESOURCE_EXHAUSTED,
                      absl::StrCat("request header fields: more than ",
                                   limits.max_header_count));
      }
      const size_t colon = line.find(':');
      if (colon == absl::string_view::npos) continue;
      const absl::string_view name = line.substr(0, colon);
      const absl::string_view value =
          absl::StripAsciiWhitespace(line.substr(colon + 1));
      // The body's framing, which this layer must know to keep requests
      // apart on a kept-alive connection: only unambiguous forms.
      if (absl::EqualsIgnoreCase(name, "Content-Length")) {
        if (has_length || value.empty() || value.size() > 15 ||
            !std::all_of(value.begin(), value.end(), absl::ascii_isdigit) ||
            !absl::SimpleAtoi(value, &content_length_)) {
          return refuse(400, MCPREG_STATUS_INVALID_ARGUMENT,
                        "Content-Length: one decimal number expected");
        }
        has_length = true;
      } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
        if (chunked_ || !absl::EqualsIgnoreCase(value, "chunked")) {
          return refuse(501, MCPREG_STATUS_UNIMPLEMENTED,
                        "Transfer-Encoding: only chunked is supported");
        }
        chunked_ = true;
      }
    }
    head_end_ = line_start;
    if (has_length && chunked_) {
      return refuse(400, MCPREG_STATUS_INVALID_ARGUMENT,
                    "a request may not have both Content-Length and "
                    "Transfer-Encoding");
    }
    if (content_length_ > limits.max_body_bytes) {
      return refuse(413, MCPREG_STATUS_RESOURCE_EXHAUSTED,
                    absl::StrCat("request body: larger than ",
                                 limits.max_body_bytes, " bytes"));
    }
    body_allowed_ = chunked_ ? limits.max_body_bytes * kChunkedSlackFactor +
                                   kChunkedSlackBytes
                             : content_length_;
    return Head::kRequest;
  }

  // The body must arrive by `deadline`.
  void StartBody(absl::Time deadline) { body_deadline_ = deadline; }

  bool chunked() const { return chunked_; }
  bool timed_out() const { return timed_out_; }
  bool over_budget() const { return over_budget_; }
  // cpp-httplib read the whole head (it stops early only on an error).
  bool head_consumed() const { return pos_ >= head_end_; }

  // Reads and drops what is left of a Content-Length body the handler did
  // not read (a GET with a body, an error answered first), so that the next
  // request starts where it should.
  bool SkipUnreadBody() {
    char buf[16384];
    while (!chunked_ && body_read_ < body_allowed_) {
      if (read(buf, sizeof(buf)) <= 0) return false;
    }
    return true;
  }

  // Replaces whatever was written with `refusal`.
  void Answer(const Refusal& refusal, const ErrorBodyFn& error_body) {
    out_ = RefusalResponse(refusal, error_body);
    Flush(absl::Now() + kRefusalWriteTime);
  }

  // Sends what was written, in one write where the socket takes it all.
  bool Flush(absl::Time deadline) {
    size_t off = 0;
    while (off < out_.size()) {
      short events = POLLOUT;
      ssize_t n;
      if (ssl_ != nullptr) {
        ERR_clear_error();
        n = SSL_write(
            ssl_, out_.data() + off,
            static_cast<int>(std::min<size_t>(out_.size() - off, 1 << 30)));
        if (n <= 0) {
          const int e = SSL_get_error(ssl_, static_cast<int>(n));
          if (e == SSL_ERROR_WANT_READ) {
            events = POLLIN;
          } else if (e != SSL_ERROR_WANT_WRITE) {
            return false;
          }
          errno = EAGAIN;
        }
      } else {
        n = send(fd_, out_.data() + off, out_.size() - off, MSG_NOSIGNAL);
      }
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return false;
      } else if (Wait(events, deadline, false) != Io::kOk) {
        return false;
      }
    }
    out_.clear();
    return true;
  }

  // Closes the connection. `linger`: part of a request may be unread, so
  // first end the sending side and drop what still arrives for a moment.
  void Close(bool linger) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      SSL_shutdown(ssl_);  // close_notify, not waiting for the client's
    }
    if (linger && shutdown(fd_, SHUT_WR) == 0) {
      const absl::Time deadline = absl::Now() + kLingerTime;
      char buf[16384];
      for (size_t dropped = 0; dropped < kLingerBytes;) {
        const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
        if (n > 0) {
          dropped += static_cast<size_t>(n);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR) ||
                   Wait(POLLIN, deadline, false) != Io::kOk) {
          break;
        }
      }
    }
    close(fd_);
    fd_ = -1;
  }

  // httplib::Stream
  bool is_readable() const override { return pos_ < in_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    if (pos_ < head_end_) {  // the head, all here already
      const size_t n = std::min(size, head_end_ - pos_);
      memcpy(ptr, in_.data() + pos_, n);
      pos_ += n;
      return static_cast<ssize_t>(n);
    }
    // The body: no more than its head declared (no body without one).
    if (body_read_ >= body_allowed_) {
      if (!chunked_) return 0;
      over_budget_ = true;
      return -1;
    }
    if (pos_ == in_.size()) {
      if (!Flush(body_deadline_)) return -1;  // e.g. "100 Continue" first
      in_.clear();
      pos_ = head_end_ = 0;
      switch (Fill(body_deadline_, false)) {
        case Io::kOk:
          break;
        case Io::kTimeout:
          timed_out_ = true;
          return -1;
        case Io::kEof:
          return 0;
        default:
          return -1;
      }
    }
    const size_t n =
        std::min({size, in_.size() - pos_, body_allowed_ - body_read_});
    memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    body_read_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }
  socket_t socket() const override { return fd_; }

 private:
  // Waits for `events` on the socket until `deadline`; `stoppable`: or
  // until the layer begins to stop.
  Io Wait(short events, absl::Time deadline, bool stoppable) {
    pollfd fds[2] = {{fd_, events, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
      const int n = poll(fds, stoppable ? 2 : 1, PollMillis(deadline));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Io::kError;
      if (n == 0) return Io::kTimeout;
      if (stoppable && fds[1].revents != 0) return Io::kStopped;
      return Io::kOk;  // ready, or an error the next call reports
    }
  }

  // Appends what arrives to the buffer, waiting until `deadline`.
  Io Fill(absl::Time deadline, bool stoppable) {
    char buf[65536];
    for (;;) {
      short events = POLLIN;
      ssize_t n;
      if (ssl_ != nullptr) {
        ERR_clear_error();
        n = SSL_read(ssl_, buf, sizeof(buf));
        if (n <= 0) {
          const int e = SSL_get_error(ssl_, static_cast<int>(n));
          if (e == SSL_ERROR_ZERO_RETURN) return Io::kEof;
          if (e == SSL_ERROR_WANT_WRITE) {
            events = POLLOUT;
          } else if (e != SSL_ERROR_WANT_READ) {
            return Io::kError;
          }
          errno = EAGAIN;
        }
      } else {
        n = recv(fd_, buf, sizeof(buf), 0);
        if (n == 0) return Io::kEof;
      }
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        return Io::kOk;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return Io::kError;
      if (const Io w = Wait(events, deadline, stoppable); w != Io::kOk) {
        return w;
      }
    }
  }

  int fd_;
  const int stop_fd_;
  SSL* ssl_ = nullptr;
  std::string remote_ip_, local_ip_;
  int remote_port_ = 0, local_port_ = 0;

  std::string in_;  // received; [0, pos_) handed to cpp-httplib
  size_t pos_ = 0;
  size_t head_end_ = 0;  // where this request's head ends in in_
  size_t content_length_ = 0;
  bool chunked_ = false;
  size_t body_read_ = 0;     // body bytes handed to cpp-httplib
  size_t body_allowed_ = 0;  // how many it may have
  absl::Time body_deadline_ = absl::InfiniteFuture();
  bool timed_out_ = false;
  bool over_budget_ = false;
  std::string out_;  // written, not yet sent
};

}  // namespace

// Threads for connections: one per connection being served, made as needed
// up to a maximum and kept; a connection beyond it is refused, not queued.
class RestConnections::Threads {
 public:
  explicit Threads(size_t max) : max_(max) {}

  // Runs `job` on an idle thread or a new one; false with `max` busy, or
  // once Join() has begun.
  bool TryRun(std::function<void()> job) {
    absl::MutexLock lock(&mu_);
    if (joining_) return false;
    if (idle_ <= jobs_.size()) {  // no idle thread left for this one
      if (threads_.size() >= max_) return false;
      threads_.emplace_back([this] { Loop(); });
    }
    jobs_.push_back(std::move(job));
    cv_.Signal();
    return true;
  }

  // Lets every job accepted finish, then joins the threads.
  void Join() {
    {
      absl::MutexLock lock(&mu_);
      joining_ = true;
      cv_.SignalAll();
    }
    for (std::thread& t : threads_) t.join();  // no more are added
    threads_.clear();
  }

 private:
  void Loop() {
    BlockSigpipe();
    for (;;) {
      std::function<void()> job;
      {
        absl::MutexLock lock(&mu_);
        ++idle_;
        while (jobs_.empty() && !joining_) cv_.Wait(&mu_);
        --idle_;
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  const size_t max_;
  absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  size_t idle_ ABSL_GUARDED_BY(mu_) = 0;
  bool joining_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // added under mu_; joined by Join()
};

RestLimits RestLimits::FromConfig(const config::v1::HostConfig& config) {
  const config::v1::RestLimits& c = config.rest_limits();
  RestLimits l;
  l.max_connections = std::max<size_t>(1, c.max_connections());
  l.max_header_count = c.max_header_count();
  l.max_header_bytes = c.max_header_bytes();
  l.max_body_bytes = config.max_request_bytes();
  l.header_timeout = absl::Milliseconds(c.header_timeout_ms());
  l.body_timeout = absl::Milliseconds(c.body_timeout_ms());
  l.idle_timeout = absl::Milliseconds(c.idle_timeout_ms());
  return l;
}

RestConnections::RestConnections(const RestLimits& limits,
                                 ErrorBodyFn error_body)
    : limits_(limits),
      error_body_(std::move(error_body)),
      stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      threads_(std::make_unique<Threads>(limits.max_connections)) {}

RestConnections::~RestConnections() {
  Shutdown();
  if (stop_fd_ >= 0) close(stop_fd_);
}

void RestConnections::Shutdown() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof(one));
  threads_->Join();
}

void RestConnections::Accept(int sock, SSL_CTX* tls, ProcessRequestFn process) {
  const int one = 1;
  setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
  if (!threads_->TryRun([this, sock, tls, process = std::move(process)] {
        Serve(sock, tls, process);
      })) {
    Refuse(sock, tls);
  }
}

void RestConnections::Refuse(int sock, SSL_CTX* tls) {
  // On the accepting thread: nothing here may wait.
  if (tls == nullptr) {
    const std::string response = RefusalResponse(
        {503, MCPREG_STATUS_UNAVAILABLE,
         absl::StrCat("the REST port is serving its maximum of ",
                      limits_.max_connections, " connections; retry later")},
        error_body_);
    (void)!send(sock, response.data(), response.size(),
                MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(sock, SHUT_WR);
    char buf[4096];  // what the client already sent: close without a reset
    while (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
    }
  }
  close(sock);
  ++refused_;
  if (const absl::Time now = absl::Now(); now >= next_cap_log_) {
    next_cap_log_ = now + kCapLogInterval;
    LogWarning(absl::StrCat("REST: ", refused_.load(),
                            " connections refused so far, at the limit of ",
                            limits_.max_connections,
                            " (restLimits.maxConnections)"));
  }
}

void RestConnections::Serve(int sock, SSL_CTX* tls,
                            const ProcessRequestFn& process) {
  Connection conn(sock, stop_fd_);
  const absl::Time opened = absl::Now();
  bool linger = false;
  if (tls == nullptr || conn.StartTls(tls, opened + limits_.header_timeout)) {
    for (size_t served = 0;; ++served) {
      Refusal refusal;
      // The first request's head is due within the header time limit of the
      // connection's opening (a TLS handshake included); a later one may
      // first wait idle, then has the same limit from its first byte.
      const Connection::Head head =
          served == 0
              ? conn.ReadHead(opened + limits_.header_timeout,
                              opened + limits_.header_timeout, limits_, refusal)
              : conn.ReadHead(absl::Now() + limits_.idle_timeout, std::nullopt,
                              limits_, refusal);
      if (head == Connection::Head::kGone) break;
      if (head == Connection::Head::kRefused) {
        conn.Answer(refusal, error_body_);
        linger = true;
        break;
      }
      conn.StartBody(absl::Now() + limits_.body_timeout);
      // A chunked body's end is cpp-httplib's to find: the connection ends
      // with the request rather than trust where the next one begins.
      const bool last = served + 1 >= kMaxRequestsPerConnection ||
                        conn.chunked() || stopping_.load();
      bool closed = false;
      const bool ok = process(conn, last, closed);
      if (conn.timed_out()) {
        conn.Answer({408, MCPREG_STATUS_DEADLINE_EXCEEDED,
                     absl::StrCat("request body: not complete within ",
                                  absl::FormatDuration(limits_.body_timeout))},
                    error_body_);
        linger = true;
        break;
      }
      if (conn.over_budget()) {
        conn.Answer({413, MCPREG_STATUS_RESOURCE_EXHAUSTED,
                     absl::StrCat("request body: larger than ",
                                  limits_.max_body_bytes, " bytes")},
                    error_body_);
        linger = true;
        break;
      }
      if (!conn.Flush(absl::Now() + limits_.body_timeout)) break;
      if (!ok || closed || last || !conn.head_consumed()) {
        linger = true;
        break;
      }
      if (!conn.SkipUnreadBody()) break;
    }
  }
  conn.Close(linger);
}

}  // namespace mcpreg::host
