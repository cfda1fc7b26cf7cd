// HTTP/1.1 over a plain loopback TCP socket, byte by byte: for tests that
// must control what is sent and when (limits, slow clients, keep-alive) and
// for the load generator's REST client. Not a general HTTP client: it reads
// responses framed by Content-Length, as the REST gateway sends them.
#ifndef MCPREG_TESTS_SUPPORT_RAW_HTTP_H_
#define MCPREG_TESTS_SUPPORT_RAW_HTTP_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mcpreg::testing {

struct RawHttpResponse {
  int status = 0;
  std::string head;  // status line and header fields, CRLFs included
  std::string body;
  // The value of header `name` (case-insensitive), "" when absent.
  std::string Header(absl::string_view name) const;
};

class RawHttpConnection {
 public:
  // Connects to "host:port" (IPv4), with TCP_NODELAY so that nothing the
  // client sends waits on Nagle's algorithm. ok() is false on failure.
  explicit RawHttpConnection(const std::string& address);
  ~RawHttpConnection();
  RawHttpConnection(const RawHttpConnection&) = delete;
  RawHttpConnection& operator=(const RawHttpConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Sends `bytes` in one send() where the socket takes them; returns how
  // many it took before the peer went away (or a send blocked `timeout`).
  int64_t Send(absl::string_view bytes,
               absl::Duration timeout = absl::Seconds(10));
  bool SendAll(absl::string_view bytes) {
    return Send(bytes) == static_cast<int64_t>(bytes.size());
  }

  // Reads the next response within `timeout`; nullopt on timeout, on a
  // closed connection before a whole response, or on a malformed one.
  std::optional<RawHttpResponse> ReadResponse(absl::Duration timeout);

  // Waits for the peer to close (end of stream or reset), discarding what
  // arrives; false when it is still open at `timeout`.
  bool WaitForClose(absl::Duration timeout);

  void Close();

 private:
  // Appends what arrives before `deadline`; false on timeout or close.
  bool Fill(absl::Time deadline);

  int fd_ = -1;
  std::string in_;  // received, not yet returned
};

// "GET /path HTTP/1.1" with Host and the given extra header lines (each
// "Name: value"), and a Content-Length body when `body` is set.
std::string HttpRequest(absl::string_view method, absl::string_view path,
                        std::initializer_list<absl::string_view> headers = {},
                        std::optional<absl::string_view> body = std::nullopt);

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_RAW_HTTP_H_
