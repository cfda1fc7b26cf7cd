// The REST port under hostile and slow clients, over raw sockets against a
// real mcpreg-host (issue 20, items 9 and 10): bodies over the limit however
// they are framed, too many or too large header fields, clients too slow to
// finish a request, more connections than the cap, and kept-alive
// connections that must not wait on Nagle's algorithm. Each limit acts in the
// host, before a request reaches the plugin. Times printed are what was
// measured; the bounds asserted are liveness bounds, not speed targets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/eventually.h"
#include "tests/support/raw_http.h"
#include "tests/support/registry_server.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kInfo[] = "/api/v1/mcp-registry/info";
constexpr char kCheck[] = "/api/v1/mcp-registry/check";
constexpr int64_t kMaxBody = 4 << 20;  // maxRequestBytes' default

class RestLimitsE2eTest : public ::testing::Test {
 protected:
  // A registry with `host_config` added to its configuration.
  void Start(const std::string& host_config = "") {
    server_ =
        std::make_unique<RegistryServer>(/*rest=*/true, 0, false, host_config);
    ASSERT_TRUE(server_->ok()) << server_->error();
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(), 0) << server_->host().Stderr();
    }
  }
  std::unique_ptr<RawHttpConnection> Connect() {
    auto c = std::make_unique<RawHttpConnection>(server_->rest_address());
    EXPECT_TRUE(c->ok());
    return c;
  }
  std::string Bearer() const {
    return "Authorization: Bearer " + server_->admin_token();
  }
  // GET /info on a new connection: the service still answers.
  int InfoStatus(absl::Duration timeout = absl::Seconds(5)) {
    auto c = Connect();
    if (!c->SendAll(HttpRequest("GET", kInfo))) return 0;
    std::optional<RawHttpResponse> r = c->ReadResponse(timeout);
    return r.has_value() ? r->status : 0;
  }

  std::unique_ptr<RegistryServer> server_;
};

std::string Chunk(absl::string_view data) {
  return absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n");
}

// gzip of `size` spaces: a few KiB that inflate to `size` bytes.
std::string GzipOfSpaces(size_t size) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string in(1 << 20, ' '), out;
  char buf[65536];
  for (size_t left = size; left > 0 || z.avail_in > 0;) {
    if (z.avail_in == 0) {
      const size_t n = std::min(left, in.size());
      z.next_in = reinterpret_cast<Bytef*>(in.data());
      z.avail_in = static_cast<uInt>(n);
      left -= n;
    }
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    deflate(&z, left == 0 ? Z_FINISH : Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  }
  for (int rc = Z_OK; rc != Z_STREAM_END;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = deflate(&z, Z_FINISH);
    out.append(buf, sizeof(buf) - z.avail_out);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;
  }
  deflateEnd(&z);
  return out;
}

// Finding: a chunked body was read in full however large (64 MiB), then
// answered 400. Now it is cut off just past maxRequestBytes and answered
// 413; a chunked body within the limit is still served.
TEST_F(RestLimitsE2eTest, ChunkedBodyOverTheLimitIs413BeforeItIsReadInFull) {
  Start();
  const std::string head =
      HttpRequest("POST", kCheck,
                  {Bearer(), "JFrog-Project-Key: ai-research",
                   "Transfer-Encoding: chunked"});
  {  // within the limit: served (404: the server does not exist)
    auto c = Connect();
    ASSERT_TRUE(
        c->SendAll(absl::StrCat(head, Chunk(R"({"server": "no-such", )"),
                                Chunk(R"("tool": "t"})"), "0\r\n\r\n")));
    std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(10));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 404) << r->body;
  }
  constexpr int64_t kSent = 64 << 20;
  auto c = Connect();
  std::atomic<int64_t> accepted{0};
  const absl::Time start = absl::Now();
  std::thread sender([&] {
    if (!c->SendAll(head)) return;
    const std::string chunk = Chunk(std::string(64 << 10, ' '));
    for (int64_t body = 0; body < kSent; body += 64 << 10) {
      const int64_t n = c->Send(chunk, absl::Seconds(10));
      accepted += n;
      if (n < static_cast<int64_t>(chunk.size())) return;
    }
    accepted += c->Send("0\r\n\r\n");
  });
  std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(20));
  const absl::Duration answered = absl::Now() - start;
  sender.join();
  std::cout << "chunked 64 MiB: answered after " << answered << "; "
            << (accepted >> 10) << " KiB of body taken by the server's side "
            << "(its reads and both kernels' buffers)\n";
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413) << r->body;
  EXPECT_THAT(r->body, HasSubstr("RESOURCE_EXHAUSTED"));
  EXPECT_EQ(r->Header("Connection"), "close");
  // The limit plus what the socket buffers hold, never the whole body.
  EXPECT_LT(accepted.load(), kSent / 2);
  EXPECT_GT(accepted.load(), kMaxBody);
}

// A declared Content-Length over the limit is answered at once: the server
// neither reads nor waits for a body it is going to refuse.
TEST_F(RestLimitsE2eTest, ContentLengthOverTheLimitIs413WithoutWaiting) {
  Start();
  auto c = Connect();
  const absl::Time start = absl::Now();
  ASSERT_TRUE(c->SendAll(
      absl::StrCat("POST ", kCheck,
                   " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: ",
                   int64_t{64} << 20, "\r\n\r\n")));
  std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(10));
  const absl::Duration answered = absl::Now() - start;
  std::cout << "Content-Length 64 MiB, no body sent: answered after "
            << answered << "\n";
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_LT(answered, absl::Seconds(2));
}

// Content-Encoding: a small gzip body that inflates past the limit is cut
// off as it inflates (before: inflated whole into memory).
TEST_F(RestLimitsE2eTest, CompressedBodyIsLimitedAsItInflates) {
  Start();
  const std::string gz = GzipOfSpaces(64 << 20);
  ASSERT_LT(gz.size(), 1u << 20);
  auto c = Connect();
  ASSERT_TRUE(c->SendAll(
      HttpRequest("POST", kCheck, {Bearer(), "Content-Encoding: gzip"}, gz)));
  std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(20));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413) << r->body;
}

// The host must know where a body ends to keep requests apart on a
// kept-alive connection, so framing two readers could read two ways is
// refused (before: cpp-httplib took Transfer-Encoding over Content-Length,
// the first of two Content-Lengths, and read a body of another coding until
// the connection closed).
TEST_F(RestLimitsE2eTest, AmbiguousFramingIsRefused) {
  Start();
  const std::string start =
      absl::StrCat("POST ", kCheck, " HTTP/1.1\r\nHost: x\r\n", Bearer(),
                   "\r\nJFrog-Project-Key: ai-research\r\n");
  const std::string body = R"({"server": "s", "tool": "t"})";
  for (const auto& [framing, status] :
       {std::pair<std::string, int>{
            absl::StrCat("Content-Length: ", body.size(),
                         "\r\nTransfer-Encoding: chunked\r\n\r\n", Chunk(body),
                         "0\r\n\r\n"),
            400},
        {absl::StrCat("Content-Length: ", body.size(),
                      "\r\nContent-Length: ", body.size(), "\r\n\r\n", body),
         400},
        {absl::StrCat("Transfer-Encoding: gzip\r\n\r\n", body), 501}}) {
    auto c = Connect();
    ASSERT_TRUE(c->SendAll(start + framing));
    std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(2));
    ASSERT_TRUE(r.has_value()) << framing;
    EXPECT_EQ(r->status, status) << framing << r->body;
    EXPECT_TRUE(c->WaitForClose(absl::Seconds(2))) << framing;
  }
}

// Finding: no limit on the number of header fields. 100 pass, 101 are 431.
TEST_F(RestLimitsE2eTest, TooManyHeaderFieldsAre431) {
  Start();
  for (int count : {99, 100}) {  // Host and count - 1 more
    std::string fields;
    for (int i = 1; i < count; ++i) {
      absl::StrAppend(&fields, "X-F", i, ": v\r\n");
    }
    auto c = Connect();
    ASSERT_TRUE(c->SendAll(absl::StrCat("GET ", kInfo, " HTTP/1.1\r\n",
                                        "Host: x\r\n", fields, "\r\n")));
    std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(10));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200) << count << " fields";
  }
  std::string fields;  // Host and 100 more
  for (int i = 1; i <= 100; ++i) absl::StrAppend(&fields, "X-F", i, ": v\r\n");
  auto c = Connect();
  ASSERT_TRUE(c->SendAll(absl::StrCat("GET ", kInfo, " HTTP/1.1\r\n",
                                      "Host: x\r\n", fields, "\r\n")));
  std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(10));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431) << r->body;
  EXPECT_THAT(r->body, HasSubstr("header fields"));
  EXPECT_TRUE(c->WaitForClose(absl::Seconds(5)));
  EXPECT_EQ(InfoStatus(), 200);
}

// Finding: a header line over 8 KiB was 400, and header bytes in all were
// unbounded (read into memory for as long as they came). Both are 431 now,
// and a client that never stops sending header fields is cut off at the
// limit.
TEST_F(RestLimitsE2eTest, OversizedHeadersAre431) {
  Start();
  {  // one field of 9 KiB: over the 8 KiB a line may have
    auto c = Connect();
    ASSERT_TRUE(c->SendAll(HttpRequest(
        "GET", kInfo, {absl::StrCat("X-Big: ", std::string(9 << 10, 'a'))})));
    std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(10));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 431) << r->body;
  }
  {  // 40 fields of 1 KiB: each line is fine, 40 KiB in all is not
    std::string request = absl::StrCat("GET ", kInfo, " HTTP/1.1\r\n");
    for (int i = 0; i < 40; ++i) {
      absl::StrAppend(&request, "X-F", i, ": ", std::string(1000, 'a'), "\r\n");
    }
    auto c = Connect();
    ASSERT_TRUE(c->SendAll(absl::StrCat(request, "\r\n")));
    std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(10));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 431) << r->body;
  }
  // Header fields without end, as fast as the socket takes them.
  auto c = Connect();
  std::atomic<int64_t> accepted{0};
  std::thread sender([&] {
    accepted += c->Send(absl::StrCat("GET ", kInfo, " HTTP/1.1\r\n"));
    const std::string line =
        absl::StrCat("X-F: ", std::string(90, 'a'), "\r\n");
    std::string block;
    for (int i = 0; i < 640; ++i) block += line;  // 62.5 KiB
    for (int i = 0; i < 1024; ++i) {              // 64 MiB in all
      const int64_t n = c->Send(block, absl::Seconds(5));
      accepted += n;
      if (n < static_cast<int64_t>(block.size())) return;
    }
  });
  std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(20));
  sender.join();
  std::cout << "endless header fields: " << (accepted >> 10)
            << " KiB taken by the server's side before it answered "
            << (r.has_value() ? r->status : 0) << "\n";
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431);
  EXPECT_LT(accepted.load(), int64_t{32} << 20);
  EXPECT_EQ(InfoStatus(), 200);
}

// Finding: a client sending a byte every few seconds held its connection
// (and a thread) for ever. Now its request must be complete within
// headerTimeoutMs of its first byte: 408, then the connection is closed.
TEST_F(RestLimitsE2eTest, HeadersThatNeverEndAreDroppedAtTheTimeLimit) {
  Start(R"("restLimits": {"headerTimeoutMs": 1000})");
  auto c = Connect();
  const absl::Time start = absl::Now();
  ASSERT_TRUE(c->SendAll(absl::StrCat("GET ", kInfo, " HTTP/1.1\r\n")));
  std::optional<RawHttpResponse> r;
  for (int i = 0; i < 40 && !r.has_value(); ++i) {  // a byte each 100 ms
    if (c->Send("X", absl::Milliseconds(100)) != 1) break;
    r = c->ReadResponse(absl::Milliseconds(100));
  }
  if (!r.has_value()) r = c->ReadResponse(absl::Seconds(1));
  const absl::Duration dropped = absl::Now() - start;
  std::cout << "headers never finished: answered and dropped after " << dropped
            << " (limit 1s)\n";
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c->WaitForClose(absl::Seconds(2)));
  EXPECT_GE(dropped, absl::Milliseconds(900));
  EXPECT_LT(dropped, absl::Seconds(3));
}

// A body must arrive within bodyTimeoutMs of its header fields.
TEST_F(RestLimitsE2eTest, ABodyTooSlowIsDroppedAtTheTimeLimit) {
  Start(R"("restLimits": {"bodyTimeoutMs": 1000})");
  auto c = Connect();
  const absl::Time start = absl::Now();
  ASSERT_TRUE(c->SendAll(
      absl::StrCat("POST ", kCheck,
                   " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: 100\r\n\r\n")));
  std::optional<RawHttpResponse> r;
  for (int i = 0; i < 40 && !r.has_value(); ++i) {  // a byte each 100 ms
    if (c->Send(" ", absl::Milliseconds(100)) != 1) break;
    r = c->ReadResponse(absl::Milliseconds(100));
  }
  if (!r.has_value()) r = c->ReadResponse(absl::Seconds(1));
  const absl::Duration dropped = absl::Now() - start;
  std::cout << "body never finished: answered and dropped after " << dropped
            << " (limit 1s)\n";
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c->WaitForClose(absl::Seconds(2)));
  EXPECT_GE(dropped, absl::Milliseconds(900));
  EXPECT_LT(dropped, absl::Seconds(3));
}

// Finding: 64 slow clients sending a byte every second stopped the gateway
// answering anyone. Now a normal request is answered at once beside them.
TEST_F(RestLimitsE2eTest, SlowClientsDoNotStopOthersBeingAnswered) {
  Start();  // the defaults: 256 connections, 10 s for a request's head
  constexpr int kSlow = 64;
  std::vector<std::unique_ptr<RawHttpConnection>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(Connect());
    ASSERT_TRUE(
        slow.back()->SendAll(absl::StrCat("GET ", kInfo, " HTTP/1.1\r\nX")));
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {  // one more byte from each, every second
    while (!stop) {
      for (auto& c : slow) c->Send("X", absl::Milliseconds(10));
      for (int i = 0; i < 10 && !stop; ++i)
        absl::SleepFor(absl::Milliseconds(100));
    }
  });
  absl::SleepFor(absl::Milliseconds(1500));  // every one of them trickling
  const absl::Time start = absl::Now();
  const int status = InfoStatus(absl::Seconds(2));
  const absl::Duration answered = absl::Now() - start;
  std::cout << "beside " << kSlow << " slow clients: GET /info answered "
            << status << " after " << answered << "\n";
  stop = true;
  trickle.join();
  EXPECT_EQ(status, 200);
  EXPECT_LT(answered, absl::Seconds(2));
}

// Found on the way: cpp-httplib listens with a backlog of 5, so a burst of
// connections (browsers open 6 at once; the slow clients above are 64)
// overflowed it and waited for their SYN to be sent again: a second or more.
TEST_F(RestLimitsE2eTest, ABurstOfConnectionsIsNotHeldBack) {
  Start();
  std::vector<std::unique_ptr<RawHttpConnection>> burst;
  absl::Duration slowest;
  for (int i = 0; i < 128; ++i) {
    const absl::Time start = absl::Now();
    burst.push_back(Connect());
    slowest = std::max(slowest, absl::Now() - start);
  }
  std::cout << "128 connections at once: the slowest connected after "
            << slowest << "\n";
  EXPECT_LT(slowest, absl::Milliseconds(500));  // a SYN resent takes 1 s
}

// Connections beyond maxConnections are answered 503 at once and closed;
// once the time limit has dropped the idle ones, new clients are served.
TEST_F(RestLimitsE2eTest, ConnectionsBeyondTheCapAre503UntilSlotsFree) {
  Start(R"("restLimits": {"maxConnections": 8, "headerTimeoutMs": 1000})");
  std::vector<std::unique_ptr<RawHttpConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(Connect());
    ASSERT_TRUE(held.back()->SendAll("GET / HTTP/1.1\r\n"));
  }
  absl::SleepFor(absl::Milliseconds(200));  // all 8 accepted and waiting
  auto c = Connect();
  const absl::Time start = absl::Now();
  ASSERT_TRUE(c->SendAll(HttpRequest("GET", kInfo)));
  std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(5));
  std::cout << "connection 9 of 8: answered " << (r.has_value() ? r->status : 0)
            << " after " << absl::Now() - start << "\n";
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(c->WaitForClose(absl::Seconds(1)));
  // The 8 are dropped at their header time limit; then there is room (a
  // slot is free once its client has closed too, or after 500 ms).
  for (auto& h : held) EXPECT_TRUE(h->WaitForClose(absl::Seconds(3)));
  held.clear();
  EXPECT_TRUE(
      Eventually([&] { return InfoStatus() == 200; }, absl::Seconds(2)));
}

// Item 10: requests after the first on a kept-alive connection waited ~40
// ms each for the client's delayed ACK (the response went out in two sends,
// and Nagle's algorithm held the second). 20 requests of each kind must take
// well under the 800 ms that stall alone would cost.
TEST_F(RestLimitsE2eTest, KeptAliveRequestsAreNotDelayed) {
  Start();
  const std::string project = "JFrog-Project-Key: ai-research";
  auto c = Connect();
  const auto call = [&](const std::string& request) {
    EXPECT_TRUE(c->SendAll(request));
    std::optional<RawHttpResponse> r = c->ReadResponse(absl::Seconds(10));
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? *r : RawHttpResponse();
  };
  RawHttpResponse r = call(HttpRequest(
      "POST", "/ml/core/api/v1/mcp-registry/custom-server", {Bearer()},
      R"({"projectKey": "ai-research", "repoArtifactInfo": {
            "repoKey": "ai-pypi-local",
            "repoPath": "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz"},
          "mcpServerInfo": {"version": "1.0.0", "description": "d"}})"));
  ASSERT_EQ(r.status, 200) << r.body;
  r = call(HttpRequest("PUT",
                       "/api/v1/mcp-registry/servers/mcp-server/tool-policy",
                       {Bearer(), project}, R"({"mode": "ALLOW_ALL"})"));
  ASSERT_EQ(r.status, 200) << r.body;

  const std::string info = HttpRequest("GET", kInfo);
  const std::string check =
      HttpRequest("POST", kCheck, {Bearer(), project},
                  R"({"server": "mcp-server", "tool": "read_file"})");
  for (const auto& [label, request] :
       {std::pair{"GET /info", info}, std::pair{"POST /check", check}}) {
    call(request);  // warm
    std::vector<absl::Duration> each;
    const absl::Time start = absl::Now();
    for (int i = 0; i < 20; ++i) {
      const absl::Time s = absl::Now();
      EXPECT_EQ(call(request).status, 200);
      each.push_back(absl::Now() - s);
    }
    const absl::Duration total = absl::Now() - start;
    std::sort(each.begin(), each.end());
    std::cout << label << " x20 on one kept-alive connection: " << total
              << " in all; median " << each[10] << ", max " << each[19] << "\n";
    EXPECT_LT(total, absl::Milliseconds(400)) << label;
  }
}

}  // namespace
}  // namespace mcpreg::testing
