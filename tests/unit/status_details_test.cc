// The hand-written google.rpc.Status of plugin/sdk/status_details.h against
// Google's own definitions (the vendored google/rpc protos): what we write,
// they read; what they write, we read; and bytes that are not a Status are
// no retry delay rather than a crash.
#include "plugin/sdk/status_details.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace mcpreg {
namespace {

TEST(StatusDetailsTest, APlainRefusalHasNoDetails) {
  EXPECT_EQ(EncodeStatusDetails(absl::NotFoundError("no")), "");
  EXPECT_EQ(EncodeStatusDetails(absl::OkStatus()), "");
}

TEST(StatusDetailsTest, GoogleReadsTheRetryDelayWeWrite) {
  const absl::Status refused = WithRetryDelay(
      absl::ResourceExhaustedError("slow down"), absl::Milliseconds(2500));
  google::rpc::Status status;
  ASSERT_TRUE(status.ParseFromString(EncodeStatusDetails(refused)));
  EXPECT_EQ(status.code(), 8);
  EXPECT_EQ(status.message(), "slow down");
  ASSERT_EQ(status.details_size(), 1);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(status.details(0).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 2);
  EXPECT_EQ(retry.retry_delay().nanos(), 500000000);
}

TEST(StatusDetailsTest, WeReadTheRetryDelayGoogleWrites) {
  google::rpc::Status status;
  status.set_code(8);
  status.set_message("later");
  google::rpc::ErrorInfo info;  // another detail first, to be passed over
  info.set_reason("QUOTA");
  status.add_details()->PackFrom(info);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(7);
  retry.mutable_retry_delay()->set_nanos(250);
  status.add_details()->PackFrom(retry);
  EXPECT_EQ(RetryDelayOf(status.SerializeAsString()),
            absl::Seconds(7) + absl::Nanoseconds(250));

  status.mutable_details()->RemoveLast();
  EXPECT_EQ(RetryDelayOf(status.SerializeAsString()), std::nullopt);
}

TEST(StatusDetailsTest, BytesThatAreNotAStatusAreNoDelay) {
  EXPECT_EQ(RetryDelayOf(""), std::nullopt);
  EXPECT_EQ(RetryDelayOf("\x1a\xff\xff\xff\xff\x0f"), std::nullopt);
  EXPECT_EQ(RetryDelayOf("not a protobuf at all"), std::nullopt);
  const std::string good = EncodeStatusDetails(
      WithRetryDelay(absl::ResourceExhaustedError("x"), absl::Seconds(1)));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_NE(RetryDelayOf(good.substr(0, cut)), absl::Seconds(1)) << cut;
  }
  EXPECT_EQ(RetryDelayOf(good), absl::Seconds(1));
}

}  // namespace
}  // namespace mcpreg
