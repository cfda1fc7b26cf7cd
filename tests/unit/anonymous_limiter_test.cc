// Calls without valid credentials: a budget per address, and one audit row
// per address and window instead of one each.
#include "plugin/src/handlers/anonymous_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "tests/support/fake_stores.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

TEST(AnonymousLimiterTest, PeerAddressDropsTheSchemeAndPort) {
  EXPECT_EQ(PeerAddress("ipv4:127.0.0.1:5311"), "127.0.0.1");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:80"), "::1");
  EXPECT_EQ(PeerAddress("ipv6:[2001:db8::2]:443"), "2001:db8::2");
}

TEST(AnonymousLimiterTest, AnAddressThatKeepsFailingIsRefusedAndCounted) {
  FakeAuditLog audit;
  sdk::HostLog log(nullptr);
  AnonymousLimits limits;
  limits.rate_per_second = 0.001;  // no refill during the test
  limits.burst = 3;
  limits.audit_window = absl::Milliseconds(200);
  storage::AuditEvent e;
  e.actor = "anonymous";
  e.action = "tool.check";
  e.decision = "DENY";
  e.reason = "no token";
  int refused = 0;
  {
    AnonymousLimiter limiter(audit, log, limits);
    for (int i = 0; i < 10; ++i) {
      if (!limiter.Admit("ipv4:10.0.0.1:1000", e).ok()) {
        ++refused;
        continue;
      }
      limiter.Refused("ipv4:10.0.0.1:1000", e);
    }
    // Another address has its own budget.
    EXPECT_TRUE(limiter.Admit("ipv4:10.0.0.2:1000", e).ok());
    absl::Status last = limiter.Admit("ipv4:10.0.0.1:9", e);
    EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(std::string(last.message()), HasSubstr("retry after"));
    ++refused;
    // One row opened the window at once...
    ASSERT_EQ(audit.events().size(), 1u);
    absl::SleepFor(absl::Milliseconds(600));
    // ...and the window's summary counts the rest, when it closes.
  }
  EXPECT_EQ(refused, 8);
  const auto rows = audit.events();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[1].reason,
              HasSubstr("10 more requests without valid credentials"));
  EXPECT_THAT(rows[1].details_json, HasSubstr("\"count\":10"));
  EXPECT_THAT(rows[1].details_json, HasSubstr("10.0.0.1"));
}

}  // namespace
}  // namespace mcpreg::testing
