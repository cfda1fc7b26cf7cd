#include "tests/support/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace mcpreg::testing {
namespace {

// Milliseconds left to `deadline` for poll(), at least 0.
int PollMillis(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return ms < 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

bool WaitFor(int fd, short events, absl::Time deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = poll(&p, 1, PollMillis(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

}  // namespace

std::string RawHttpResponse::Header(absl::string_view name) const {
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    const size_t colon = line.find(':');
    if (colon != absl::string_view::npos &&
        absl::EqualsIgnoreCase(line.substr(0, colon), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

RawHttpConnection::RawHttpConnection(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
    return;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return;
  }
  fd_ = fd;
}

RawHttpConnection::~RawHttpConnection() { Close(); }

void RawHttpConnection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

int64_t RawHttpConnection::Send(absl::string_view bytes,
                                absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int64_t sent = 0;
  while (fd_ >= 0 && sent < static_cast<int64_t>(bytes.size())) {
    const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += n;
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd_, POLLOUT, deadline)) break;
    } else {
      break;  // reset, or the peer is gone
    }
  }
  return sent;
}

bool RawHttpConnection::Fill(absl::Time deadline) {
  if (fd_ < 0 || !WaitFor(fd_, POLLIN, deadline)) return false;
  char buf[16384];
  const ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
  if (n > 0) {
    in_.append(buf, n);
    return true;
  }
  return n < 0 && (errno == EAGAIN || errno == EINTR);
}

std::optional<RawHttpResponse> RawHttpConnection::ReadResponse(
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t end;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(deadline)) return std::nullopt;
  }
  RawHttpResponse r;
  r.head = in_.substr(0, end + 2);
  const std::vector<absl::string_view> status_line =
      absl::StrSplit(absl::string_view(r.head).substr(0, r.head.find("\r\n")),
                     absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &r.status)) {
    return std::nullopt;
  }
  size_t length = 0;
  if (const std::string cl = r.Header("Content-Length");
      !cl.empty() && !absl::SimpleAtoi(cl, &length)) {
    return std::nullopt;
  }
  while (in_.size() < end + 4 + length) {
    if (!Fill(deadline)) return std::nullopt;
  }
  r.body = in_.substr(end + 4, length);
  in_.erase(0, end + 4 + length);
  return r;
}

bool RawHttpConnection::WaitForClose(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (fd_ >= 0) {
    if (!WaitFor(fd_, POLLIN, deadline)) return false;
    char buf[16384];
    const ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
  return true;
}

std::string HttpRequest(absl::string_view method, absl::string_view path,
                        std::initializer_list<absl::string_view> headers,
                        std::optional<absl::string_view> body) {
  std::string r =
      absl::StrCat(method, " ", path, " HTTP/1.1\r\n", "Host: 127.0.0.1\r\n");
  for (absl::string_view h : headers) absl::StrAppend(&r, h, "\r\n");
  if (body.has_value()) {
    absl::StrAppend(&r, "Content-Type: application/json\r\nContent-Length: ",
                    body->size(), "\r\n\r\n", *body);
  } else {
    r += "\r\n";
  }
  return r;
}

}  // namespace mcpreg::testing
