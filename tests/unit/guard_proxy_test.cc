// The guard's proxy between a client and a server, both played by this test
// over real pipes, with the registry's answers faked: what is filtered, what
// never reaches the server, what passes through untouched, and how a
// session ends.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "cli/guard/mcp_proxy.h"

namespace mcpreg::cli {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FakeGate : public ToolGate {
 public:
  absl::StatusOr<Decision> Check(const std::string& tool) override {
    absl::MutexLock lock(&mu_);
    checked_.push_back(tool);
    if (!status_.ok()) return status_;
    return Decision{allowed_.count(tool) > 0, "a test policy"};
  }
  absl::StatusOr<std::vector<std::string>> Allowed(
      const std::vector<std::string>& tools) override {
    absl::MutexLock lock(&mu_);
    if (!status_.ok()) return status_;
    std::vector<std::string> out;
    for (const auto& t : tools) {
      if (allowed_.count(t) > 0) out.push_back(t);
    }
    return out;
  }
  void SetClient(const std::string& name, const std::string& version) override {
    absl::MutexLock lock(&mu_);
    client_ = name + "/" + version;
  }
  void Allow(std::set<std::string> tools) {
    absl::MutexLock lock(&mu_);
    allowed_ = std::move(tools);
  }
  void Fail(absl::Status s) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(s);
  }
  std::string client() {
    absl::MutexLock lock(&mu_);
    return client_;
  }

 private:
  absl::Mutex mu_;
  std::set<std::string> allowed_;
  absl::Status status_;
  std::vector<std::string> checked_;
  std::string client_;
};

// Reads lines from a descriptor with a bound on the wait.
class Lines {
 public:
  explicit Lines(int fd) : fd_(fd) {}
  // The next line, or "" after 5 s or at the end.
  std::string Next() {
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      pollfd p = {fd_, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) return "";
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  json NextJson() {
    const std::string line = Next();
    return line.empty() ? json() : json::parse(line, nullptr, false);
  }

 private:
  int fd_;
  std::string buffer_;
};

void WriteLine(int fd, const std::string& line) {
  const std::string out = line + "\n";
  ASSERT_EQ(write(fd, out.data(), out.size()),
            static_cast<ssize_t>(out.size()));
}

// A server with tools echo, ls and rm that records every request it gets;
// on "please/ask" it sends the client a request of its own first.
class FakeServer {
 public:
  FakeServer(int in, int out) : in_(in), out_(out) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() { thread_.join(); }
  std::vector<std::string> seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }
  void set_garbage(bool garbage) { garbage_ = garbage; }

 private:
  void Serve() {
    Lines lines(in_);
    for (;;) {
      const std::string line = lines.Next();
      if (line.empty()) break;  // EOF: the proxy closed our stdin
      json m = json::parse(line, nullptr, false);
      {
        absl::MutexLock lock(&mu_);
        seen_.push_back(m.value("method", std::string("<response>")) +
                        (m.contains("params") && m["params"].contains("name")
                             ? ":" + m["params"]["name"].get<std::string>()
                             : ""));
      }
      if (garbage_) {
        WriteLine(out_, "this is not json");
        continue;
      }
      if (!m.contains("id") || !m.contains("method")) continue;
      const std::string method = m["method"];
      json result;
      if (method == "tools/list") {
        result = {
            {"tools", {{{"name", "echo"}}, {{"name", "ls"}}, {{"name", "rm"}}}},
            {"nextCursor", "page2"}};
      } else if (method == "please/ask") {
        WriteLine(out_, json{{"jsonrpc", "2.0"},
                             {"id", 7},
                             {"method", "sampling/createMessage"}}
                            .dump());
        result = json::object();
      } else {
        result = {{"content", {{{"type", "text"}, {"text", method}}}}};
      }
      WriteLine(
          out_,
          json{{"jsonrpc", "2.0"}, {"id", m["id"]}, {"result", result}}.dump());
    }
    close(out_);
  }

  int in_, out_;
  std::atomic<bool> garbage_{false};
  absl::Mutex mu_;
  std::vector<std::string> seen_;
  std::thread thread_;
};

class GuardProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int client_in[2], client_out[2], server_in[2], server_out[2];
    ASSERT_EQ(pipe(client_in), 0);
    ASSERT_EQ(pipe(client_out), 0);
    ASSERT_EQ(pipe(server_in), 0);
    ASSERT_EQ(pipe(server_out), 0);
    to_proxy_ = client_in[1];
    from_proxy_ = client_out[0];
    server_ = std::make_unique<FakeServer>(server_in[0], server_out[1]);
    options_.display_name = "npm:repo:test";
    proxy_ = std::thread([=, this] {
      outcome_ = RunMcpProxy(gate_, client_in[0], client_out[1], server_in[1],
                             server_out[0], options_);
      close(client_out[1]);
    });
    lines_ = std::make_unique<Lines>(from_proxy_);
  }
  void TearDown() override {
    if (to_proxy_ >= 0) close(to_proxy_);
    proxy_.join();
    server_.reset();
  }
  void Send(const json& message) { WriteLine(to_proxy_, message.dump()); }
  json Call(int id, const std::string& tool) {
    Send({{"jsonrpc", "2.0"},
          {"id", id},
          {"method", "tools/call"},
          {"params", {{"name", tool}}}});
    return lines_->NextJson();
  }
  void EndSession() {
    close(to_proxy_);
    to_proxy_ = -1;
    proxy_.join();
    proxy_ = std::thread([] {});
  }

  FakeGate gate_;
  ProxyOptions options_;
  int to_proxy_ = -1, from_proxy_ = -1;
  std::unique_ptr<FakeServer> server_;
  std::thread proxy_;
  ProxyOutcome outcome_;
  std::unique_ptr<Lines> lines_;
};

TEST_F(GuardProxyTest, ToolsListIsFilteredAndTheRestPassesThrough) {
  gate_.Allow({"echo", "ls"});
  Send({{"jsonrpc", "2.0"},
        {"id", 1},
        {"method", "initialize"},
        {"params", {{"clientInfo", {{"name", "ide"}, {"version", "9"}}}}}});
  EXPECT_EQ(lines_->NextJson()["id"], 1);
  EXPECT_EQ(gate_.client(), "ide/9");
  Send({{"jsonrpc", "2.0"}, {"id", "l"}, {"method", "tools/list"}});
  json list = lines_->NextJson();
  ASSERT_TRUE(list.contains("result")) << list.dump();
  std::vector<std::string> names;
  for (const json& t : list["result"]["tools"]) names.push_back(t["name"]);
  EXPECT_THAT(names, ElementsAre("echo", "ls"));
  EXPECT_EQ(list["result"]["nextCursor"], "page2");  // paging untouched
  EndSession();
  EXPECT_EQ(outcome_.why, ProxyOutcome::Why::kClientClosed);
}

TEST_F(GuardProxyTest, ARefusedCallNeverReachesTheServer) {
  gate_.Allow({"echo"});
  json allowed = Call(1, "echo");
  EXPECT_TRUE(allowed.contains("result")) << allowed.dump();
  json refused = Call(2, "rm");
  ASSERT_TRUE(refused.contains("error")) << refused.dump();
  EXPECT_EQ(refused["error"]["code"], -32602);
  EXPECT_THAT(refused["error"]["message"].get<std::string>(),
              HasSubstr("not allowed by the registry's tool policy"));
  EXPECT_EQ(refused["error"]["data"]["tool"], "rm");
  EndSession();
  EXPECT_THAT(server_->seen(), ElementsAre("tools/call:echo"));
}

TEST_F(GuardProxyTest, WhenTheRegistryCannotAnswerNothingIsForwarded) {
  gate_.Fail(absl::UnavailableError("connection refused"));
  json refused = Call(1, "echo");
  ASSERT_TRUE(refused.contains("error")) << refused.dump();
  EXPECT_EQ(refused["error"]["code"], -32603);
  EXPECT_THAT(refused["error"]["message"].get<std::string>(),
              HasSubstr("fails closed"));
  Send({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}});
  EXPECT_TRUE(lines_->NextJson().contains("error"));
  EndSession();
  EXPECT_THAT(server_->seen(), ElementsAre("tools/list"));  // the list only
}

TEST_F(GuardProxyTest, AnUnregisteredServerEndsTheSession) {
  gate_.Fail(absl::NotFoundError("no server named 'test'"));
  json refused = Call(1, "echo");
  EXPECT_THAT(refused["error"]["message"].get<std::string>(),
              HasSubstr("no longer registered"));
  EXPECT_EQ(lines_->NextJson()["method"], "notifications/message");
  proxy_.join();  // ends by itself
  proxy_ = std::thread([] {});
  EXPECT_EQ(outcome_.why, ProxyOutcome::Why::kUnregistered);
  EXPECT_TRUE(server_->seen().empty());
}

TEST_F(GuardProxyTest, ServerRequestsAndClientAnswersPassUnchanged) {
  Send({{"jsonrpc", "2.0"}, {"id", "a"}, {"method", "please/ask"}});
  json request = lines_->NextJson();
  EXPECT_EQ(request["method"], "sampling/createMessage");
  EXPECT_EQ(request["id"], 7);
  EXPECT_EQ(lines_->NextJson()["id"], "a");
  Send({{"jsonrpc", "2.0"}, {"id", 7}, {"result", {{"ok", true}}}});
  Send({{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}});
  EndSession();
  EXPECT_THAT(server_->seen(), ElementsAre("please/ask", "<response>",
                                           "notifications/cancelled"));
}

TEST_F(GuardProxyTest, BatchesAndBrokenJsonAreRefused) {
  WriteLine(to_proxy_, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}]");
  EXPECT_EQ(lines_->NextJson()["error"]["code"], -32600);
  WriteLine(to_proxy_, "{not json");
  EXPECT_EQ(lines_->NextJson()["error"]["code"], -32700);
  EndSession();
  EXPECT_TRUE(server_->seen().empty());
}

TEST_F(GuardProxyTest, AServerWritingGarbageIsReportedNotHungOn) {
  gate_.Allow({"echo"});
  server_->set_garbage(true);
  json answer = Call(1, "echo");
  ASSERT_TRUE(answer.contains("error")) << answer.dump();
  EXPECT_THAT(answer["error"]["message"].get<std::string>(),
              HasSubstr("not JSON-RPC"));
  close(to_proxy_);
  to_proxy_ = -1;
  proxy_.join();
  proxy_ = std::thread([] {});
  EXPECT_EQ(outcome_.why, ProxyOutcome::Why::kServerBroken);
}

}  // namespace
}  // namespace mcpreg::cli
