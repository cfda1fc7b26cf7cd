// How the REST gateway answers a plugin's refusal: RESOURCE_EXHAUSTED is a
// rate limit or a full queue (429) unless the plugin marked the request as
// too large (413).
#include "host/rest_errors.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "host/plugin_call.h"
#include "plugin/sdk/abi_status.h"
#include "plugin/sdk/status_details.h"

namespace mcpreg::host {
namespace {

PluginReply Refusal(const absl::Status& status) {
  PluginReply reply;
  reply.code = MCPREG_STATUS_RESOURCE_EXHAUSTED;
  reply.message = std::string(status.message());
  reply.details = EncodeStatusDetails(status);
  return reply;
}

TEST(RestErrorsTest, AFullQueueIsTooManyRequestsNotTooLarge) {
  httplib::Response res;
  SendPluginError(res,
                  Refusal(absl::ResourceExhaustedError(
                      "the plugin's queue is full; retry with backoff")),
                  /*raw_route=*/true);
  EXPECT_EQ(res.status, 429);
}

TEST(RestErrorsTest, ARequestMarkedTooLargeIs413) {
  httplib::Response res;
  SendPluginError(res,
                  Refusal(AsTooLarge(absl::ResourceExhaustedError(
                      "content: larger than 10 bytes"))),
                  /*raw_route=*/true);
  EXPECT_EQ(res.status, 413);
  EXPECT_NE(res.body.find("larger than 10 bytes"), std::string::npos);
}

TEST(RestErrorsTest, ARateLimitSaysWhenToRetry) {
  httplib::Response res;
  SendPluginError(
      res,
      Refusal(WithRetryDelay(absl::ResourceExhaustedError("too many refusals"),
                             absl::Seconds(3))),
      /*raw_route=*/false);
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.get_header_value("Retry-After"), "3");
}

TEST(RestErrorsTest, TheTooLargeMarkSurvivesTheWireAndNothingElseCarriesIt) {
  EXPECT_TRUE(IsTooLarge(
      EncodeStatusDetails(AsTooLarge(absl::ResourceExhaustedError("big")))));
  EXPECT_FALSE(IsTooLarge(EncodeStatusDetails(WithRetryDelay(
      absl::ResourceExhaustedError("slow down"), absl::Seconds(1)))));
  EXPECT_FALSE(IsTooLarge(""));
  EXPECT_FALSE(IsTooLarge("\xff\xff not a status"));
}

}  // namespace
}  // namespace mcpreg::host
