// The real mcpreg-host, started as a process, against each fixture plugin:
// broken plugins are refused with a clear message; misbehaving calls are
// contained and the host stays up.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/host_process.h"
#include "tests/support/raw_grpc.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kFixture[] = "/fixture.v1.Fixture/";

std::string M(const std::string& name) { return kFixture + name; }

// Starts the host on a free loopback port with `plugin` and extra flags.
std::unique_ptr<HostProcess> StartHost(const std::string& plugin,
                                       std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--plugin", plugin, "--grpc_listen",
                                   "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<HostProcess>(HostBinary(), args);
}

// A host that must refuse to start: exits 1 and says why on stderr.
std::string ExpectRefusal(const std::string& plugin) {
  HostProcess host(HostBinary(),
                   {"--plugin", plugin, "--grpc_listen", "127.0.0.1:0"});
  EXPECT_EQ(host.WaitForAddress(absl::Seconds(10)), std::nullopt);
  ExitResult r = host.Wait(absl::Seconds(10));
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 1);
  return host.Stderr();
}

TEST(HostRefusesBrokenPlugins, WrongMajor) {
  const std::string path = FixturePath("wrong_major");
  EXPECT_THAT(ExpectRefusal(path),
              HasSubstr(path + " was built for plugin ABI 2.0, this host "
                               "speaks 1.0 — rebuild the plugin"));
}

TEST(HostRefusesBrokenPlugins, NewerMinor) {
  const std::string path = FixturePath("newer_minor");
  EXPECT_THAT(ExpectRefusal(path),
              HasSubstr(path + " was built for plugin ABI 1.99, this host "
                               "speaks 1.0"));
}

TEST(HostRefusesBrokenPlugins, MissingEntrySymbol) {
  const std::string path = FixturePath("no_entry");
  EXPECT_THAT(ExpectRefusal(path),
              HasSubstr(path + " does not export mcpreg_plugin_entry; it is "
                               "not an mcpreg plugin"));
}

TEST(HostRefusesBrokenPlugins, CreateThatFailsReportsThePluginsReason) {
  EXPECT_THAT(ExpectRefusal(FixturePath("create_fails")),
              HasSubstr("the plugin refused to start: fixture create "
                        "failure: cannot reach the database"));
}

TEST(HostRefusesBrokenPlugins, MissingFile) {
  EXPECT_THAT(ExpectRefusal("/nonexistent/libx.so"),
              HasSubstr("cannot load plugin /nonexistent/libx.so"));
}

class FixtureHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = StartHost(FixturePath("ok"), {"--config", Config()});
    auto address = host_->WaitForAddress(absl::Seconds(10));
    ASSERT_TRUE(address.has_value()) << host_->Stderr();
    channel_ = InsecureChannel(*address);
  }
  void TearDown() override {
    if (!host_) return;
    host_->Signal(SIGTERM);
    ExitResult r = host_->Wait(absl::Seconds(20));
    EXPECT_TRUE(r.exited) << host_->Stderr();
    EXPECT_EQ(r.exit_code, 0) << host_->Stderr();
  }
  // A short host bound so "never completes" tests stay quick.
  static std::string Config() {
    static const std::string path = WriteTempFile(
        ".json", R"({"maxCallTimeoutMs": 700, "drainTimeoutMs": 1000})");
    return path;
  }
  // The host must still answer after whatever the test did.
  void ExpectStillServing() {
    RawResult r = RawUnaryCall(channel_, M("Echo"), "still here");
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_EQ(r.response, "still here");
  }

  std::unique_ptr<HostProcess> host_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(FixtureHostTest, EchoesBytesUnchanged) {
  std::string binary("\0\x01\xfe\xff payload", 12);
  RawResult r = RawUnaryCall(channel_, M("Echo"), binary);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.response, binary);
}

TEST_F(FixtureHostTest, CompletionFromAnotherThreadIsDelivered) {
  RawResult r = RawUnaryCall(channel_, M("Delayed"), "50");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.response, "done");
}

TEST_F(FixtureHostTest, StatusMessageAndBinaryDetailsPassThroughUnchanged) {
  const std::string details("\x08\x09\x12\x03why", 7);
  RawResult r = RawUnaryCall(channel_, M("Fail"), details);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(r.status.error_message(), "fixture failure");
  EXPECT_EQ(r.status.error_details(), details);
}

TEST_F(FixtureHostTest, MetadataPeerAndDeadlineReachThePlugin) {
  const absl::Time before = absl::Now();
  RawResult r = RawUnaryCall(channel_, M("Metadata"), "", absl::Seconds(5),
                             {{"authorization", "Bearer t0k3n"},
                              {"jfrog-project-key", "ai-research"},
                              {"trace-bin", std::string("\x00\x01\x02", 3)}});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_THAT(r.response, HasSubstr("peer=ipv4:127.0.0.1:"));
  EXPECT_THAT(r.response, HasSubstr("authorization=Bearer t0k3n\n"));
  EXPECT_THAT(r.response, HasSubstr("jfrog-project-key=ai-research\n"));
  EXPECT_THAT(r.response,
              HasSubstr(std::string("trace-bin=\x00\x01\x02\n", 14)));
  // The deadline the plugin sees is the earlier of the client's (5 s) and
  // the host's bound (700 ms).
  int64_t nanos = 0;
  for (absl::string_view line : absl::StrSplit(r.response, '\n')) {
    if (absl::ConsumePrefix(&line, "deadline=")) {
      ASSERT_TRUE(absl::SimpleAtoi(line, &nanos));
    }
  }
  const absl::Time deadline = absl::FromUnixNanos(nanos);
  EXPECT_GT(deadline, before);
  EXPECT_LE(deadline, absl::Now() + absl::Milliseconds(700));
}

TEST_F(FixtureHostTest, UnknownMethodIsUnimplemented) {
  RawResult r = RawUnaryCall(channel_, "/fixture.v1.Fixture/Nope", "");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(r.status.error_message(), HasSubstr("not served by plugin"));
  ExpectStillServing();
}

TEST_F(FixtureHostTest, UpFrontRejectionKeepsItsCode) {
  RawResult r = RawUnaryCall(channel_, M("Reject"), "");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(r.status.error_message(), HasSubstr("retry"));
}

TEST_F(FixtureHostTest, NeverCompletingCallEndsAtTheClientsDeadline) {
  const absl::Time start = absl::Now();
  RawResult r = RawUnaryCall(channel_, M("Never"), "", absl::Milliseconds(300));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  ExpectStillServing();
}

TEST_F(FixtureHostTest, NeverCompletingCallWithoutDeadlineEndsAtTheHostBound) {
  // The client allows 20 s; the host's bound (700 ms) ends it first.
  RawResult r = RawUnaryCall(channel_, M("Never"), "", absl::Seconds(20));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(r.status.error_message(), HasSubstr("did not complete"));
  // The plugin was asked to give up on it.
  RawResult cancels = RawUnaryCall(channel_, M("Cancelled"), "");
  ASSERT_TRUE(cancels.status.ok());
  EXPECT_EQ(cancels.response, "1");
  ExpectStillServing();
}

// The ABI lets a plugin complete a call from inside cancel(), on the host's
// thread. The host must not be holding anything that completion needs.
TEST_F(FixtureHostTest, CompletingInsideCancelAtTheClientsDeadline) {
  for (int i = 0; i < 3; ++i) {
    RawResult r = RawUnaryCall(channel_, M("CompleteOnCancel"), "",
                               absl::Milliseconds(300));
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << r.status.error_message();
  }
  ExpectStillServing();  // and TearDown checks a clean, bounded shutdown
}

TEST_F(FixtureHostTest, CompletingInsideCancelAtTheHostsBound) {
  // The host's deadline timer cancels (its own thread), the plugin completes
  // inside that cancel; the timer must go on working for later calls.
  RawResult r =
      RawUnaryCall(channel_, M("CompleteOnCancel"), "", absl::Seconds(20));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(r.status.error_message(), HasSubstr("did not complete"));
  r = RawUnaryCall(channel_, M("Never"), "", absl::Seconds(20));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(r.status.error_message(), HasSubstr("did not complete"));
  ExpectStillServing();
}

class ThrowingHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = StartHost(FixturePath("throwing"));
    auto address = host_->WaitForAddress(absl::Seconds(10));
    ASSERT_TRUE(address.has_value()) << host_->Stderr();
    channel_ = InsecureChannel(*address);
  }
  std::unique_ptr<HostProcess> host_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ThrowingHostTest, ExceptionsBecomeInternalAndTheHostStaysUp) {
  for (const char* method : {"Std", "NonStd"}) {
    RawResult r = RawUnaryCall(
        channel_, std::string("/fixture.v1.Throwing/") + method, "");
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INTERNAL) << method;
    EXPECT_THAT(r.status.error_message(), HasSubstr("internal error in"));
    // The exception text is logged, not sent to the client.
    EXPECT_THAT(r.status.error_message(), ::testing::Not(HasSubstr("blew up")));
  }
  RawResult ok = RawUnaryCall(channel_, "/fixture.v1.Throwing/Ok", "");
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
  host_->Signal(SIGTERM);
  ExitResult r = host_->Wait(absl::Seconds(20));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(host_->Stderr(), HasSubstr("fixture: handler blew up"));
}

}  // namespace
}  // namespace mcpreg::testing
