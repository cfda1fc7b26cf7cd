// Calls without valid credentials, limited per peer before any database
// work (issue 20, item 8), against a real mcpreg-host and PostgreSQL: past
// the burst, gRPC answers RESOURCE_EXHAUSTED with a google.rpc.RetryInfo
// (read here with Google's own definitions) and REST answers 429 with
// Retry-After; a caller with a valid token from the same address still gets
// through; and every refusal is on the audit record, most of them as a count
// in one row per peer and window, with the chain intact.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/error_details.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "tests/support/eventually.h"
#include "tests/support/registry_server.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kBurst = 3;
// One refusal every five seconds once the burst is spent: a retry delay of
// one to five seconds, and nothing refills during a test.
constexpr char kLimits[] =
    R"("anonymousLimits": {"ratePerSecond": 0.2, "burst": 3,
                           "auditWindowMs": 1500})";

class AnonymousLimitsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ =
        std::make_unique<RegistryServer>(/*rest=*/true, 0, false, "", kLimits);
    ASSERT_TRUE(server_->ok()) << server_->error();
    stub_ = v1::McpRegistry::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(), 0) << server_->host().Stderr();
    }
  }

  grpc::Status Check(const std::string& token) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::CheckToolCallRequest request;
    request.set_project_key("ai-research");
    request.set_server("no-such-server");
    request.set_tool("echo");
    v1::CheckToolCallResponse response;
    return stub_->CheckToolCall(&ctx, request, &response);
  }
  httplib::Result RestCheck(const std::string& token) {
    std::string host = server_->rest_address();
    const size_t colon = host.rfind(':');
    httplib::Client client(host.substr(0, colon),
                           std::stoi(host.substr(colon + 1)));
    client.set_read_timeout(20);
    return client.Post("/api/v1/mcp-registry/check",
                       {{"Authorization", "Bearer " + token},
                        {"JFrog-Project-Key", "ai-research"}},
                       R"({"server": "no-such-server", "tool": "echo"})",
                       "application/json");
  }
  int64_t Query(const std::string& sql) {
    pqxx::connection c(server_->conninfo());
    pqxx::nontransaction q(c);
    return q.exec(sql)[0][0].as<int64_t>();
  }
  // Refusals of unauthenticated calls on the record: a row each when it
  // opened a window, else its window's count.
  int64_t AuditedRefusals() {
    return Query(
        "SELECT coalesce(sum(coalesce((details->>'count')::bigint, 1)), 0) "
        "FROM audit_log WHERE actor = 'anonymous' AND decision = 'DENY'");
  }
  int64_t AnonymousRows() {
    return Query("SELECT count(*) FROM audit_log WHERE actor = 'anonymous'");
  }

  std::unique_ptr<RegistryServer> server_;
  std::unique_ptr<v1::McpRegistry::Stub> stub_;
};

TEST_F(AnonymousLimitsE2eTest, GrpcRefusesTheExcessWithRetryInfo) {
  // Known before the flood: a valid caller is never held back by it.
  ASSERT_EQ(Check(server_->admin_token()).error_code(), grpc::NOT_FOUND);
  for (int i = 0; i < kBurst; ++i) {
    grpc::Status s = Check("not-a-token");
    EXPECT_EQ(s.error_code(), grpc::UNAUTHENTICATED) << i << s.error_message();
  }
  constexpr int kFlood = 20;
  for (int i = 0; i < kFlood; ++i) {
    grpc::Status s = Check("not-a-token");
    ASSERT_EQ(s.error_code(), grpc::RESOURCE_EXHAUSTED) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("retry after"));
    google::rpc::Status details;
    ASSERT_TRUE(grpc::ExtractErrorDetails(s, &details).ok());
    EXPECT_EQ(details.code(), grpc::RESOURCE_EXHAUSTED);
    EXPECT_EQ(details.message(), s.error_message());
    ASSERT_EQ(details.details_size(), 1);
    google::rpc::RetryInfo retry;
    ASSERT_TRUE(details.details(0).UnpackTo(&retry))
        << details.details(0).type_url();
    EXPECT_GE(retry.retry_delay().seconds(), 1);
    EXPECT_LE(retry.retry_delay().seconds(), 5);
    EXPECT_EQ(retry.retry_delay().nanos(), 0);
  }
  EXPECT_EQ(Check(server_->admin_token()).error_code(), grpc::NOT_FOUND);

  // Every refusal is counted; the window's summary lands once it closes.
  EXPECT_TRUE(Eventually([&] { return AuditedRefusals() == kBurst + kFlood; },
                         absl::Seconds(15)))
      << AuditedRefusals();
  EXPECT_LE(AnonymousRows(), 4) << "one row per refusal, not per window";
  EXPECT_EQ(Query("SELECT count(*) FROM audit_log WHERE actor = 'anonymous' "
                  "AND details->>'peer' = '127.0.0.1'"),
            AnonymousRows());

  v1::VerifyAuditLogResponse verified;
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + server_->admin_token());
  ASSERT_TRUE(stub_->VerifyAuditLog(&ctx, {}, &verified).ok());
  EXPECT_TRUE(verified.intact()) << verified.problem();
}

TEST_F(AnonymousLimitsE2eTest, RestAnswers429WithRetryAfter) {
  httplib::Result r = RestCheck(server_->admin_token());
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  ASSERT_EQ(r->status, 404) << r->body;
  for (int i = 0; i < kBurst; ++i) {
    r = RestCheck("not-a-token");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << r->body;
    EXPECT_FALSE(r->has_header("Retry-After"));
  }
  r = RestCheck("not-a-token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  ASSERT_TRUE(r->has_header("Retry-After"));
  const int retry_after = std::stoi(r->get_header_value("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 5);
  EXPECT_THAT(r->body, HasSubstr(R"("code":"RESOURCE_EXHAUSTED")"));
  // The detail as grpc-gateway renders a google.rpc.RetryInfo.
  EXPECT_THAT(r->body, HasSubstr(R"("@type":"type.googleapis.com/)"
                                 R"(google.rpc.RetryInfo")"));
  EXPECT_THAT(r->body, HasSubstr(absl::StrCat(R"("retryDelay":")", retry_after,
                                              R"(s")")));

  r = RestCheck(server_->admin_token());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;
}

}  // namespace
}  // namespace mcpreg::testing
