// The host's one reading of a plugin's completion and refusal.
#include "host/abi_call.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>

namespace mcpreg::host {
namespace {

using ::testing::HasSubstr;

mcpreg_str Str(const char* s) { return {s, std::strlen(s)}; }

TEST(AbiCallTest, CallInfoBorrowsEveryHeader) {
  const std::map<std::string, std::string> headers = {
      {"authorization", "Bearer x"}, {"jfrog-project-key", "ai-research"}};
  const AbiCallInfo info("/mcpreg.v1.McpRegistry/GetServer", headers,
                         "ipv4:127.0.0.1:1", absl::FromUnixSeconds(7));
  EXPECT_EQ(info.get().struct_size, sizeof(mcpreg_call_info));
  ASSERT_EQ(info.get().metadata_count, 2u);
  EXPECT_EQ(std::string(info.get().metadata[0].key.data,
                        info.get().metadata[0].key.size),
            "authorization");
  EXPECT_EQ(info.get().deadline_unix_nanos, 7'000'000'000);
}

TEST(AbiCallTest, ACompletionIsReadWithinItsStructSize) {
  mcpreg_call_result r{};
  r.struct_size = sizeof(r);
  r.status_code = MCPREG_STATUS_NOT_FOUND;
  r.status_message = Str("no such server");
  const uint8_t details[] = {1, 2, 3};
  r.status_details = {details, sizeof(details)};
  AbiStatus s = StatusOfCompletion(&r);
  EXPECT_EQ(s.code, MCPREG_STATUS_NOT_FOUND);
  EXPECT_EQ(s.message, "no such server");
  EXPECT_EQ(s.details.size(), 3u);
  // A plugin built when the struct ended before status_details.
  r.struct_size = offsetof(mcpreg_call_result, status_details);
  EXPECT_TRUE(StatusOfCompletion(&r).details.empty());
  r.status_code = 99;  // no such code
  EXPECT_EQ(StatusOfCompletion(&r).code, MCPREG_STATUS_UNKNOWN);
  EXPECT_EQ(StatusOfCompletion(nullptr).code, MCPREG_STATUS_INTERNAL);
}

TEST(AbiCallTest, RefusalsAndDeadlinesNameTheMethod) {
  AbiStatus full = RefusalStatus(MCPREG_STATUS_RESOURCE_EXHAUSTED, "/m/X");
  EXPECT_EQ(full.code, MCPREG_STATUS_RESOURCE_EXHAUSTED);
  EXPECT_THAT(full.message, HasSubstr("retry /m/X with backoff"));
  EXPECT_THAT(RefusalStatus(MCPREG_STATUS_UNAVAILABLE, "/m/X").message,
              HasSubstr("shutting down"));
  EXPECT_EQ(RefusalStatus(-3, "/m/X").code, MCPREG_STATUS_UNKNOWN);
  AbiStatus late = DeadlineStatus("/m/X");
  EXPECT_EQ(late.code, MCPREG_STATUS_DEADLINE_EXCEEDED);
  EXPECT_THAT(late.message, HasSubstr("/m/X did not complete"));
}

}  // namespace
}  // namespace mcpreg::host
