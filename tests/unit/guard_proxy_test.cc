// The guard's proxy between a client and a server, both played by this test
// over real pipes, with the registry's answers faked: what is filtered, what
// never reaches the server, what passes through untouched, how a session
// ends, and which arguments and definition digests each check carries —
// including the tools/list requests the guard sends on its own when what it
// knows of the definitions is not current. Last, the gate's side of that:
// RegistryGate's requests to an in-process fake registry.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cli/guard/mcp_proxy.h"
#include "cli/guard/registry_gate.h"

namespace mcpreg::cli {
namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A tool's definition as the fake server shows it (and as the proxy hands
// it to the gate: nlohmann writes object keys sorted either way).
std::string Definition(const std::string& tool, const std::string& version) {
  return json{{"name", tool}, {"description", tool + " " + version}}.dump();
}

// One CheckToolCall as the gate saw it.
struct Checked {
  std::string tool;
  std::string arguments;
  std::string digest;
};

class FakeGate : public ToolGate {
 public:
  // The fake registry's digest of a definition: the definition itself.
  static std::string DigestOf(const std::string& definition) {
    return "digest:" + definition;
  }

  absl::StatusOr<Decision> Check(const std::string& tool,
                                 const std::string& arguments_json,
                                 const std::string& digest) override {
    absl::MutexLock lock(&mu_);
    checked_.push_back({tool, arguments_json, digest});
    if (!status_.ok()) return status_;
    return Decision{allowed_.count(tool) > 0, "a test policy"};
  }
  absl::StatusOr<std::vector<ListedTool>> Filter(
      const std::vector<std::string>& tools) override {
    absl::MutexLock lock(&mu_);
    if (!status_.ok()) return status_;
    std::vector<ListedTool> out;
    for (const std::string& t : tools) {
      const json definition = json::parse(t, nullptr, false);
      const std::string name = definition.is_object()
                                   ? definition.value("name", std::string())
                                   : std::string();
      out.push_back({name, allowed_.count(name) > 0, DigestOf(t)});
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
  std::vector<Checked> checked() {
    absl::MutexLock lock(&mu_);
    return checked_;
  }

 private:
  absl::Mutex mu_;
  std::set<std::string> allowed_;
  absl::Status status_;
  std::vector<Checked> checked_;
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

// A server with tools echo, ls and rm on the first page of tools/list and
// cat on the second, that records every request it gets (the client's in
// seen(), the guard's own in guard_seen()); on "please/ask" it sends the
// client a request of its own first.
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
  // The tools/list requests the guard sent itself ("tools/list", then
  // "tools/list:<cursor>" for each further page).
  std::vector<std::string> guard_seen() {
    absl::MutexLock lock(&mu_);
    return guard_seen_;
  }
  // The arguments of each tools/call that reached it, as JSON text.
  std::vector<std::string> call_arguments() {
    absl::MutexLock lock(&mu_);
    return call_arguments_;
  }
  // Each tools/call line as it reached it.
  std::vector<std::string> call_lines() {
    absl::MutexLock lock(&mu_);
    return call_lines_;
  }
  void set_garbage(bool garbage) { garbage_ = garbage; }
  // Answers tools/list only after `delay`; never with an infinite one.
  void set_list_delay(absl::Duration delay) {
    absl::MutexLock lock(&mu_);
    list_delay_ = delay;
  }
  // Changes a tool's definition and says so, as a server may mid-session.
  void ChangeTool(const std::string& tool, const std::string& version) {
    {
      absl::MutexLock lock(&mu_);
      versions_[tool] = version;
    }
    Write(
        json{{"jsonrpc", "2.0"}, {"method", "notifications/tools/list_changed"}}
            .dump());
  }

 private:
  void Write(const std::string& line) {
    absl::MutexLock lock(&write_mu_);
    WriteLine(out_, line);
  }
  json Tools(const std::vector<std::string>& names) {
    absl::MutexLock lock(&mu_);
    json tools = json::array();
    for (const std::string& name : names) {
      tools.push_back(json::parse(Definition(name, versions_[name])));
    }
    return tools;
  }
  void Serve() {
    Lines lines(in_);
    for (;;) {
      const std::string line = lines.Next();
      if (line.empty()) break;  // EOF: the proxy closed our stdin
      json m = json::parse(line, nullptr, false);
      const json params = m.value("params", json::object());
      const bool from_guard =
          m.value("id", json()).is_string() &&
          m["id"].get<std::string>().rfind("mcpreg-guard-", 0) == 0;
      absl::Duration list_delay;
      {
        absl::MutexLock lock(&mu_);
        const std::string method = m.value("method", std::string("<response>"));
        if (from_guard) {
          guard_seen_.push_back(method +
                                (params.contains("cursor")
                                     ? ":" + params["cursor"].get<std::string>()
                                     : ""));
        } else {
          seen_.push_back(method +
                          (params.contains("name")
                               ? ":" + params["name"].get<std::string>()
                               : ""));
        }
        if (method == "tools/call") {
          call_arguments_.push_back(
              params.contains("arguments") ? params["arguments"].dump() : "");
          call_lines_.push_back(line);
        }
        list_delay = list_delay_;
      }
      if (garbage_) {
        Write("this is not json");
        continue;
      }
      if (!m.contains("id") || !m.contains("method")) continue;
      const std::string method = m["method"];
      json result;
      if (method == "tools/list") {
        if (list_delay == absl::InfiniteDuration()) continue;
        absl::SleepFor(list_delay);
        if (params.value("cursor", "") == "page2") {
          result = {{"tools", Tools({"cat"})}};
        } else {
          result = {{"tools", Tools({"echo", "ls", "rm"})},
                    {"nextCursor", "page2"}};
        }
      } else if (method == "please/ask") {
        Write(json{
            {"jsonrpc", "2.0"}, {"id", 7}, {"method", "sampling/createMessage"}}
                  .dump());
        result = json::object();
      } else {
        result = {{"content", {{{"type", "text"}, {"text", method}}}}};
      }
      Write(
          json{{"jsonrpc", "2.0"}, {"id", m["id"]}, {"result", result}}.dump());
    }
    close(out_);
  }

  int in_, out_;
  std::atomic<bool> garbage_{false};
  absl::Mutex write_mu_;
  absl::Mutex mu_;
  std::vector<std::string> seen_;
  std::vector<std::string> guard_seen_;
  std::vector<std::string> call_arguments_;
  std::vector<std::string> call_lines_;
  std::map<std::string, std::string> versions_ = {
      {"echo", "v1"}, {"ls", "v1"}, {"rm", "v1"}, {"cat", "v1"}};
  absl::Duration list_delay_ = absl::ZeroDuration();
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
  json CallWith(int id, const std::string& tool, const json& arguments) {
    Send({{"jsonrpc", "2.0"},
          {"id", id},
          {"method", "tools/call"},
          {"params", {{"name", tool}, {"arguments", arguments}}}});
    return lines_->NextJson();
  }
  // The client's own tools/list (first page); the tool names it got.
  std::vector<std::string> ListTools(int id) {
    Send({{"jsonrpc", "2.0"}, {"id", id}, {"method", "tools/list"}});
    const json list = lines_->NextJson();
    std::vector<std::string> names;
    if (!list.contains("result")) return names;
    for (const json& t : list["result"]["tools"]) names.push_back(t["name"]);
    return names;
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

TEST_F(GuardProxyTest, ArgumentsReachTheGateAndTheServerAsGiven) {
  gate_.Allow({"echo"});
  ListTools(1);
  const json arguments = {{"path", "/tmp/x"},
                          {"n", 3},
                          {"opts", {{"deep", {1, 2, {{"k", nullptr}}}}}}};
  EXPECT_TRUE(CallWith(2, "echo", arguments).contains("result"));
  EXPECT_TRUE(Call(3, "echo").contains("result"));
  EndSession();
  const std::vector<Checked> checked = gate_.checked();
  ASSERT_EQ(checked.size(), 2u);
  EXPECT_EQ(json::parse(checked[0].arguments), arguments);
  EXPECT_EQ(checked[1].arguments, "");  // none: not "{}"
  ASSERT_EQ(server_->call_arguments().size(), 2u);
  EXPECT_EQ(json::parse(server_->call_arguments()[0]), arguments);
}

TEST_F(GuardProxyTest, ArgumentsThatAreNotAnObjectAreRefusedNotForwarded) {
  gate_.Allow({"echo"});
  int id = 1;
  for (const json& arguments :
       {json::array({1}), json("text"), json(5), json(nullptr)}) {
    const json refused = CallWith(id++, "echo", arguments);
    ASSERT_TRUE(refused.contains("error")) << refused.dump();
    EXPECT_EQ(refused["error"]["code"], -32602);
    EXPECT_EQ(refused["error"]["message"],
              "params.arguments: must be an object");
  }
  EndSession();
  EXPECT_THAT(gate_.checked(), IsEmpty());
  EXPECT_THAT(server_->seen(), IsEmpty());
  EXPECT_THAT(server_->guard_seen(), IsEmpty());  // nothing listed for them
}

// The registry judges numbers as doubles; an integer a double cannot hold
// exactly would be judged as one value and run as another.
TEST_F(GuardProxyTest, IntegersBeyondTwoToThe53AreRefusedNotForwarded) {
  gate_.Allow({"echo"});
  ListTools(1);
  const json refused =
      CallWith(2, "echo", json::parse(R"({"n": [9007199254740993]})"));
  ASSERT_TRUE(refused.contains("error")) << refused.dump();
  EXPECT_EQ(refused["error"]["code"], -32602);
  const json fine =
      CallWith(3, "echo", json::parse(R"({"n": -9007199254740992})"));
  EXPECT_TRUE(fine.contains("result")) << fine.dump();
  EndSession();
  EXPECT_EQ(server_->call_lines().size(), 1u);
}

// The server gets the call as the guard parsed it, so that no second
// reading of the line (a duplicate key, say) differs from what was checked.
TEST_F(GuardProxyTest, TheServerGetsTheArgumentsTheGateJudged) {
  gate_.Allow({"echo"});
  ListTools(1);
  WriteLine(to_proxy_,
            R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":)"
            R"({"name":"echo","arguments":{"path":"/ok","path":"/etc"}}})");
  EXPECT_TRUE(lines_->NextJson().contains("result"));
  EndSession();
  ASSERT_EQ(gate_.checked().size(), 1u);
  EXPECT_EQ(json::parse(gate_.checked()[0].arguments),
            json({{"path", "/etc"}}));
  // One value only: a server that keeps the first of duplicate keys would
  // otherwise read "/ok" where the registry judged "/etc".
  ASSERT_EQ(server_->call_lines().size(), 1u);
  EXPECT_THAT(server_->call_lines()[0], Not(HasSubstr("/ok")));
  EXPECT_EQ(json::parse(server_->call_arguments()[0]),
            json({{"path", "/etc"}}));
}

TEST_F(GuardProxyTest, CheckGetsTheDigestTheListingReported) {
  gate_.Allow({"echo"});
  EXPECT_THAT(ListTools(1), ElementsAre("echo"));
  EXPECT_TRUE(Call(2, "echo").contains("result"));
  EndSession();
  ASSERT_EQ(gate_.checked().size(), 1u);
  EXPECT_EQ(gate_.checked()[0].digest,
            FakeGate::DigestOf(Definition("echo", "v1")));
  // The client's listing was current: the guard listed nothing itself.
  EXPECT_THAT(server_->guard_seen(), IsEmpty());
}

TEST_F(GuardProxyTest, AHiddenToolIsLeftOutButItsDigestStillChecked) {
  gate_.Allow({"ls"});
  EXPECT_THAT(ListTools(1), ElementsAre("ls"));
  const json refused = Call(2, "rm");
  EXPECT_EQ(refused["error"]["code"], -32602) << refused.dump();
  EndSession();
  ASSERT_EQ(gate_.checked().size(), 1u);
  EXPECT_EQ(gate_.checked()[0].digest,
            FakeGate::DigestOf(Definition("rm", "v1")));
  EXPECT_THAT(server_->seen(), ElementsAre("tools/list"));
}

TEST_F(GuardProxyTest, AfterListChangedTheNextCallListsAgainUnseen) {
  gate_.Allow({"echo"});
  ListTools(1);
  EXPECT_TRUE(Call(2, "echo").contains("result"));
  server_->ChangeTool("echo", "v2");
  // The client hears of it too, and calls without listing again.
  EXPECT_EQ(lines_->NextJson()["method"], "notifications/tools/list_changed");
  const json answer = Call(3, "echo");
  EXPECT_EQ(answer["id"], 3) << answer.dump();  // not the guard's listing
  EXPECT_TRUE(answer.contains("result")) << answer.dump();
  EXPECT_THAT(server_->guard_seen(),
              ElementsAre("tools/list", "tools/list:page2"));
  EndSession();
  EXPECT_EQ(lines_->Next(), "");  // nothing else reached the client
  const std::vector<Checked> checked = gate_.checked();
  ASSERT_EQ(checked.size(), 2u);
  EXPECT_EQ(checked[0].digest, FakeGate::DigestOf(Definition("echo", "v1")));
  EXPECT_EQ(checked[1].digest, FakeGate::DigestOf(Definition("echo", "v2")));
  EXPECT_THAT(server_->seen(),
              ElementsAre("tools/list", "tools/call:echo", "tools/call:echo"));
}

TEST_F(GuardProxyTest, ACallBeforeAnyListingListsAllPagesFirst) {
  gate_.Allow({"echo", "cat"});
  EXPECT_TRUE(Call(1, "cat").contains("result"));  // on the second page
  EXPECT_THAT(server_->guard_seen(),
              ElementsAre("tools/list", "tools/list:page2"));
  EXPECT_TRUE(Call(2, "echo").contains("result"));
  // A tool the complete listing does not have is checked without a
  // digest, and is no reason to list again.
  EXPECT_EQ(Call(3, "nope")["error"]["code"], -32602);
  EndSession();
  EXPECT_EQ(lines_->Next(), "");
  EXPECT_THAT(server_->guard_seen(),
              ElementsAre("tools/list", "tools/list:page2"));
  const std::vector<Checked> checked = gate_.checked();
  ASSERT_EQ(checked.size(), 3u);
  EXPECT_EQ(checked[0].digest, FakeGate::DigestOf(Definition("cat", "v1")));
  EXPECT_EQ(checked[1].digest, FakeGate::DigestOf(Definition("echo", "v1")));
  EXPECT_EQ(checked[2].digest, "");
}

TEST_F(GuardProxyTest, CallsArrivingTogetherShareOneListing) {
  gate_.Allow({"echo", "ls"});
  server_->set_list_delay(absl::Milliseconds(200));
  for (int id = 1; id <= 4; ++id) {
    Send({{"jsonrpc", "2.0"},
          {"id", id},
          {"method", "tools/call"},
          {"params", {{"name", id % 2 == 0 ? "echo" : "ls"}}}});
  }
  std::set<int> answered;
  for (int i = 0; i < 4; ++i) {
    const json answer = lines_->NextJson();
    EXPECT_TRUE(answer.contains("result")) << answer.dump();
    if (answer.contains("id") && answer["id"].is_number()) {
      answered.insert(answer["id"].get<int>());
    }
  }
  EXPECT_THAT(answered, ElementsAre(1, 2, 3, 4));
  EndSession();
  EXPECT_THAT(server_->guard_seen(),
              ElementsAre("tools/list", "tools/list:page2"));
}

TEST_F(GuardProxyTest, TheGuardsIdsAreNotTheClients) {
  Send({{"jsonrpc", "2.0"}, {"id", "mcpreg-guard-1"}, {"method", "ping"}});
  const json refused = lines_->NextJson();
  EXPECT_EQ(refused["error"]["code"], -32600) << refused.dump();
  EXPECT_EQ(refused["id"], "mcpreg-guard-1");
  EndSession();
  EXPECT_THAT(server_->seen(), IsEmpty());
}

TEST_F(GuardProxyTest, DeeplyNestedInputIsRefusedNotCrashedOn) {
  gate_.Allow({"echo"});
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  WriteLine(to_proxy_,
            R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":)"
            R"({"name":"echo","arguments":{"a":)" +
                deep + "}}}");
  EXPECT_EQ(lines_->NextJson()["error"]["code"], -32600);
  EXPECT_TRUE(Call(2, "echo").contains("result"));  // the guard goes on
  EndSession();
  EXPECT_THAT(server_->seen(), ElementsAre("tools/call:echo"));
}

// The guard's own listing gets a short deadline here.
class GuardProxyListTimeoutTest : public GuardProxyTest {
 protected:
  void SetUp() override {
    options_.list_timeout = absl::Milliseconds(300);
    GuardProxyTest::SetUp();
  }
};

TEST_F(GuardProxyListTimeoutTest, AListingTheServerNeverAnswersRefusesTheCall) {
  gate_.Allow({"echo"});
  server_->set_list_delay(absl::InfiniteDuration());
  const json refused = Call(1, "echo");
  ASSERT_TRUE(refused.contains("error")) << refused.dump();
  EXPECT_EQ(refused["error"]["code"], -32603);
  EXPECT_THAT(refused["error"]["message"].get<std::string>(),
              HasSubstr("did not answer"));
  EXPECT_THAT(refused["error"]["message"].get<std::string>(),
              HasSubstr("fails closed"));
  EndSession();
  EXPECT_THAT(gate_.checked(), IsEmpty());
  EXPECT_THAT(server_->seen(), Not(Contains("tools/call:echo")));
  EXPECT_EQ(outcome_.why, ProxyOutcome::Why::kClientClosed);
}

TEST_F(GuardProxyListTimeoutTest, ALateAnswerToTheGuardNeverReachesTheClient) {
  gate_.Allow({"echo"});
  server_->set_list_delay(absl::Milliseconds(700));
  EXPECT_EQ(Call(1, "echo")["error"]["code"], -32603);
  absl::SleepFor(absl::Seconds(1));  // the answer comes, late
  EndSession();
  EXPECT_EQ(lines_->Next(), "");
  EXPECT_THAT(server_->seen(), IsEmpty());
}

// --- RegistryGate ----------------------------------------------------------

// Records what the gate sends; answers FilterTools with a digest per
// definition ("d-<name>"), allows the names that end in an even digit, and
// marks those starting with "p" PENDING.
class FakeRegistry : public v1::McpRegistry::Service {
 public:
  grpc::Status FilterTools(grpc::ServerContext*,
                           const v1::FilterToolsRequest* request,
                           v1::FilterToolsResponse* response) override {
    absl::MutexLock lock(&mu_);
    filters_.push_back(*request);
    for (const google::protobuf::Struct& d : request->definitions()) {
      const std::string name = d.fields().at("name").string_value();
      v1::ToolDefinitionStatus* status = response->add_definitions();
      status->set_tool(name);
      status->set_digest("d-" + name);
      // "p..." stands for a definition awaiting approval whose name is
      // nevertheless allowed (by another entry of the same name).
      if (name[0] == 'p') {
        status->set_approval(v1::ToolDefinitionStatus::PENDING);
      }
      if ((name.back() - '0') % 2 == 0) {
        response->add_allowed_tools(name);
      } else {
        response->add_denied_tools(name);
      }
    }
    return grpc::Status::OK;
  }
  grpc::Status CheckToolCall(grpc::ServerContext*,
                             const v1::CheckToolCallRequest* request,
                             v1::CheckToolCallResponse* response) override {
    absl::MutexLock lock(&mu_);
    checks_.push_back(*request);
    response->set_allowed(true);
    return grpc::Status::OK;
  }
  std::vector<v1::FilterToolsRequest> filters() {
    absl::MutexLock lock(&mu_);
    return filters_;
  }
  std::vector<v1::CheckToolCallRequest> checks() {
    absl::MutexLock lock(&mu_);
    return checks_;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::FilterToolsRequest> filters_;
  std::vector<v1::CheckToolCallRequest> checks_;
};

class RegistryGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&registry_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    options_.addr = "127.0.0.1:" + std::to_string(port);
    gate_ = std::make_unique<RegistryGate>(options_, "proj", "srv", "s1");
    gate_->SetVersion("1.2.0");
  }
  void TearDown() override { server_->Shutdown(); }

  FakeRegistry registry_;
  std::unique_ptr<grpc::Server> server_;
  GlobalOptions options_;
  std::unique_ptr<RegistryGate> gate_;
};

TEST_F(RegistryGateTest, FilterSendsDefinitionsInBatchesOfAHundred) {
  std::vector<std::string> tools;
  for (int i = 0; i < 250; ++i) {
    tools.push_back(json{
        {"name", "t" + std::to_string(i)},
        {"inputSchema",
         {{"n", i}}}}.dump());
  }
  tools.insert(tools.begin() + 3, "[1]");  // not an object
  tools.insert(tools.begin() + 7, R"({"description":"no name"})");
  absl::StatusOr<std::vector<ToolGate::ListedTool>> listed =
      gate_->Filter(tools);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 252u);
  EXPECT_FALSE((*listed)[3].allowed);
  EXPECT_EQ((*listed)[3].digest, "");
  EXPECT_FALSE((*listed)[7].allowed);
  EXPECT_EQ((*listed)[7].digest, "");
  EXPECT_EQ((*listed)[0].name, "t0");
  EXPECT_TRUE((*listed)[0].allowed);
  EXPECT_EQ((*listed)[0].digest, "d-t0");
  EXPECT_EQ((*listed)[4].name, "t3");  // after the entry left out
  EXPECT_FALSE((*listed)[4].allowed);
  EXPECT_EQ((*listed)[4].digest, "d-t3");
  EXPECT_EQ((*listed)[251].name, "t249");
  EXPECT_EQ((*listed)[251].digest, "d-t249");

  const std::vector<v1::FilterToolsRequest> filters = registry_.filters();
  ASSERT_EQ(filters.size(), 3u);
  EXPECT_EQ(filters[0].definitions_size(), 100);
  EXPECT_EQ(filters[1].definitions_size(), 100);
  EXPECT_EQ(filters[2].definitions_size(), 50);
  for (const v1::FilterToolsRequest& f : filters) {
    EXPECT_EQ(f.version(), "1.2.0");
    EXPECT_EQ(f.server(), "srv");
    EXPECT_EQ(f.tools_size(), 0);  // definitions instead
    EXPECT_EQ(f.caller().session_id(), "s1");
  }
  EXPECT_EQ(filters[2]
                .definitions(49)
                .fields()
                .at("inputSchema")
                .struct_value()
                .fields()
                .at("n")
                .number_value(),
            249);
}

// `allowed_tools` is by name; an entry is shown only if its own definition
// is not pending, and a name the page lists twice is shown for neither.
TEST_F(RegistryGateTest, EachEntryIsJudgedAloneAndANameListedTwiceIsHidden) {
  absl::StatusOr<std::vector<ToolGate::ListedTool>> listed =
      gate_->Filter({R"({"name":"t2","description":"a"})",
                     R"({"name":"t2","description":"b"})", R"({"name":"t4"})",
                     R"({"name":"p6"})"});
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 4u);
  EXPECT_FALSE((*listed)[0].allowed);
  EXPECT_EQ((*listed)[0].digest, "");
  EXPECT_FALSE((*listed)[1].allowed);
  EXPECT_EQ((*listed)[1].digest, "");
  EXPECT_TRUE((*listed)[2].allowed);
  EXPECT_FALSE((*listed)[3].allowed);
  EXPECT_EQ((*listed)[3].digest, "d-p6");
}

TEST_F(RegistryGateTest, CheckSendsArgumentsAndDigest) {
  ASSERT_TRUE(
      gate_->Check("t2", R"({"path":"/tmp","n":[1,{"k":true}]})", "d-t2").ok());
  ASSERT_TRUE(gate_->Check("t2", "", "").ok());
  absl::StatusOr<ToolGate::Decision> bad = gate_->Check("t2", "[1]", "d-t2");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("params.arguments: "));

  const std::vector<v1::CheckToolCallRequest> checks = registry_.checks();
  ASSERT_EQ(checks.size(), 2u);  // the bad one was not sent
  EXPECT_EQ(checks[0].definition_digest(), "d-t2");
  EXPECT_EQ(checks[0].arguments().fields().at("path").string_value(), "/tmp");
  EXPECT_TRUE(checks[0]
                  .arguments()
                  .fields()
                  .at("n")
                  .list_value()
                  .values(1)
                  .struct_value()
                  .fields()
                  .at("k")
                  .bool_value());
  EXPECT_FALSE(checks[1].has_arguments());
  EXPECT_EQ(checks[1].definition_digest(), "");
}

}  // namespace
}  // namespace mcpreg::cli
