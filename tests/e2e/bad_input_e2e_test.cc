// Hostile bytes at the registry's two front doors, end to end: malformed
// protobuf to every gRPC method, invalid UTF-8 inside otherwise well-formed
// messages, and malformed JSON to the REST gateway (a real HTTP client). Each
// must get a clear INVALID_ARGUMENT / 400, write nothing, and leave the
// service answering the next caller.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "tests/support/raw_grpc.h"
#include "tests/support/registry_server.h"
#include "tests/support/shared_registry_test.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kCheckMethod[] = "/mcpreg.v1.McpRegistry/CheckToolCall";
constexpr char kRegisterMethod[] =
    "/mcpreg.v1.McpRegistry/RegisterCustomServer";
constexpr char kRestRegister[] = "/ml/core/api/v1/mcp-registry/custom-server";

class BadInputE2eTest
    : public SharedRegistryTest<BadInputE2eTest, /*kRest=*/true> {
 protected:
  static std::vector<std::pair<std::string, std::string>> Auth() {
    return {{"authorization", "Bearer " + server_->admin_token()},
            {"jfrog-project-key", "ai-research"}};
  }
  static RawResult Call(const std::string& method, const std::string& bytes) {
    return RawUnaryCall(*channel_, method, bytes, absl::Seconds(10), Auth());
  }
  // Every method the plugin serves, as GetPluginInfo lists them.
  static std::vector<std::string> Methods() {
    RawResult r = Call("/mcpreg.v1.McpRegistry/GetPluginInfo", "");
    v1::PluginInfo info;
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_TRUE(info.ParseFromString(r.response));
    return {info.methods().begin(), info.methods().end()};
  }
  // The registry still answers a real question correctly.
  static void ExpectStillServing() {
    v1::CheckToolCallRequest check;
    check.set_server("no-such-server");
    check.set_tool("read_file");
    RawResult r = Call(kCheckMethod, check.SerializeAsString());
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::NOT_FOUND)
        << r.status.error_message();
  }
  static httplib::Client Rest() {
    std::vector<std::string> host_port =
        absl::StrSplit(server_->rest_address(), ':');
    httplib::Client client(host_port[0], std::stoi(host_port[1]));
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    client.set_default_headers(
        {{"Authorization", "Bearer " + server_->admin_token()}});
    return client;
  }
};

// Encodings no protobuf parser may accept, whatever the message type.
const std::vector<std::pair<std::string, std::string>>& MalformedProtobuf() {
  static const auto* kCases =
      new std::vector<std::pair<std::string, std::string>>{
          {"tag with no value", std::string("\x08", 1)},
          {"length past the end", std::string("\x0a\x05"
                                              "ab",
                                              4)},
          {"field number zero", std::string("\x00\x01", 2)},
          {"wire type 7", std::string("\x0f\x00", 2)},
          {"group never ended", std::string("\x0b", 1)},
          {"11-byte varint", std::string("\x08\xff\xff\xff\xff\xff\xff\xff"
                                         "\xff\xff\xff\x01",
                                         12)},
          {"2 GiB length prefix", std::string("\x0a\xff\xff\xff\xff\x07", 6)},
          {"random bytes",
           std::string("\x9c\xff\x13\xee\x07\x00\xa1\xb2\xc3\xd4\xe5\xf6", 12)},
      };
  return *kCases;
}

TEST_F(BadInputE2eTest, MalformedProtobufIsInvalidArgumentForEveryMethod) {
  const std::vector<std::string> methods = Methods();
  ASSERT_GE(methods.size(), 20u);
  for (const std::string& method : methods) {
    for (const auto& [label, bytes] : MalformedProtobuf()) {
      RawResult r = Call(method, bytes);
      EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << method << " with " << label << ": " << r.status.error_message();
      EXPECT_THAT(r.status.error_message(), HasSubstr("not a valid"))
          << method << " with " << label;
    }
  }
  ExpectStillServing();
}

// Byte strings that are not UTF-8: a lone continuation byte, an overlong
// '/', a UTF-16 surrogate, a truncated sequence, a code point past U+10FFFF.
const std::vector<std::string>& InvalidUtf8() {
  static const auto* kCases = new std::vector<std::string>{
      "abc\x80",    "\xc0\xaf",         "\xed\xa0\x80",
      "ok\xe2\x82", "\xf4\x90\x80\x80", "\xff\xfe"};
  return *kCases;
}

TEST_F(BadInputE2eTest, InvalidUtf8InAStringFieldIsRefusedAndWritesNothing) {
  for (const std::string& bad : InvalidUtf8()) {
    v1::RegisterCustomServerRequest reg;
    reg.set_project_key("ai-research");
    reg.set_name("utf8-" + bad);
    reg.mutable_repo_artifact_info()->set_repo_key("ai-pypi-local");
    reg.mutable_repo_artifact_info()->set_repo_path(
        "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz");
    reg.mutable_mcp_server_info()->set_version("1.0.0");
    RawResult r = Call(kRegisterMethod, reg.SerializeAsString());
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << r.status.error_message();

    v1::CheckToolCallRequest check;
    check.set_server("mcp-server");
    check.set_tool(bad);
    r = Call(kCheckMethod, check.SerializeAsString());
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << r.status.error_message();

    v1::SetToolPolicyRequest policy;
    policy.mutable_policy()->set_server("mcp-server");
    policy.mutable_policy()->add_entries()->set_pattern(bad);
    r = Call("/mcpreg.v1.McpRegistry/SetToolPolicy",
             policy.SerializeAsString());
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << r.status.error_message();
  }
  // No server named like any of those came to exist.
  v1::ListServersRequest list;
  list.set_search("utf8-");
  RawResult r =
      Call("/mcpreg.v1.McpRegistry/ListServers", list.SerializeAsString());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  v1::ListServersResponse servers;
  ASSERT_TRUE(servers.ParseFromString(r.response));
  EXPECT_EQ(servers.servers_size(), 0);
  ExpectStillServing();
}

TEST_F(BadInputE2eTest, MalformedJsonIsA400WithAJsonError) {
  httplib::Client client = Rest();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty body", ""},
      {"truncated", R"({"projectKey": "ai-research",)"},
      {"array, not object", R"(["ai-research"])"},
      {"number for a string", R"({"projectKey": 42})"},
      {"object for a string", R"({"projectKey": {"a": 1}})"},
      {"string for an object", R"({"repoArtifactInfo": "ai-pypi-local"})"},
      {"NUL escape", R"({"projectKey": "ai\u0000research"})"},
      {"lone surrogate escape", R"({"projectKey": "\ud800"})"},
      {"invalid UTF-8 in a string", "{\"projectKey\": \"ai\xff\xfe\"}"},
      {"trailing garbage", R"({"projectKey": "ai-research"} xyz)"},
      {"nested 100000 deep", std::string(100000, '[')},
      {"not JSON at all", "\x00\x01\x02\x03"},
  };
  for (const auto& [label, body] : cases) {
    httplib::Result r = client.Post(kRestRegister, body, "application/json");
    ASSERT_TRUE(r) << label << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 400) << label << ": " << r->body.substr(0, 300);
    EXPECT_THAT(r->body, HasSubstr("\"code\"")) << label;
    EXPECT_THAT(r->get_header_value("Content-Type"),
                HasSubstr("application/json"))
        << label;
  }
  // The gateway and the registry behind it are still fine.
  httplib::Result ok = client.Get("/api/v1/mcp-registry/servers",
                                  {{"JFrog-Project-Key", "ai-research"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  ExpectStillServing();
}

}  // namespace
}  // namespace mcpreg::testing
