// SIGTERM/SIGINT: the host stops accepting, lets in-flight calls finish within
// the drain bound, destroys the plugin instance and exits 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <future>

#include "absl/time/clock.h"
#include "tests/support/host_process.h"
#include "tests/support/raw_grpc.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<HostProcess> StartFixtureHost(int drain_ms,
                                              std::string* address) {
  const std::string config = WriteTempFile(
      ".json", "{\"drainTimeoutMs\": " + std::to_string(drain_ms) + "}");
  auto host = std::make_unique<HostProcess>(
      HostBinary(),
      std::vector<std::string>{"--plugin", FixturePath("ok"), "--grpc_listen",
                               "127.0.0.1:0", "--config", config});
  auto a = host->WaitForAddress(absl::Seconds(10));
  if (a) *address = *a;
  return host;
}

TEST(HostDrainTest, SigtermLetsAnInFlightCallFinishThenExitsZero) {
  std::string address;
  auto host = StartFixtureHost(5000, &address);
  ASSERT_FALSE(address.empty()) << host->Stderr();
  auto channel = InsecureChannel(address);
  // Warm the connection so the in-flight call is really in flight.
  ASSERT_TRUE(
      RawUnaryCall(channel, "/fixture.v1.Fixture/Echo", "").status.ok());

  auto in_flight = std::async(std::launch::async, [&] {
    return RawUnaryCall(channel, "/fixture.v1.Fixture/Delayed", "800");
  });
  absl::SleepFor(absl::Milliseconds(200));
  host->Signal(SIGTERM);

  RawResult r = in_flight.get();
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.response, "done");
  ExitResult exit = host->Wait(absl::Seconds(10));
  EXPECT_TRUE(exit.exited);
  EXPECT_EQ(exit.exit_code, 0) << host->Stderr();
  EXPECT_THAT(host->Stderr(), HasSubstr("draining in-flight calls"));

  // Stopped means stopped: nothing listens any more.
  RawResult after =
      RawUnaryCall(InsecureChannel(address), "/fixture.v1.Fixture/Echo", "",
                   absl::Milliseconds(500));
  EXPECT_FALSE(after.status.ok());
}

TEST(HostDrainTest, CallsOutlivingTheDrainBoundAreCancelledAndTheHostExits) {
  std::string address;
  auto host = StartFixtureHost(500, &address);
  ASSERT_FALSE(address.empty()) << host->Stderr();
  auto channel = InsecureChannel(address);
  ASSERT_TRUE(
      RawUnaryCall(channel, "/fixture.v1.Fixture/Echo", "").status.ok());

  auto stuck = std::async(std::launch::async, [&] {
    return RawUnaryCall(channel, "/fixture.v1.Fixture/Never", "",
                        absl::Seconds(30));
  });
  absl::SleepFor(absl::Milliseconds(200));
  const absl::Time signalled = absl::Now();
  host->Signal(SIGINT);
  ExitResult exit = host->Wait(absl::Seconds(10));
  EXPECT_TRUE(exit.exited);
  EXPECT_EQ(exit.exit_code, 0) << host->Stderr();
  // Well before the client's 30 s: the drain bound ended it.
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(8));
  RawResult r = stuck.get();
  EXPECT_FALSE(r.status.ok());
}

}  // namespace
}  // namespace mcpreg::testing
