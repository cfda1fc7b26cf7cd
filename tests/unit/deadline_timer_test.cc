#include "host/deadline_timer.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace mcpreg::host {
namespace {

TEST(DeadlineTimerTest, RunsCallbacksInDeadlineOrder) {
  DeadlineTimer timer;
  std::mutex mu;
  std::vector<int> order;
  absl::Notification last;
  const absl::Time now = absl::Now();
  auto record = [&](int n) {
    return [&, n] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(n);
      if (order.size() == 3) last.Notify();
    };
  };
  timer.Schedule(now + absl::Milliseconds(60), record(3));
  timer.Schedule(now + absl::Milliseconds(20), record(1));
  timer.Schedule(now + absl::Milliseconds(40), record(2));
  ASSERT_TRUE(last.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(DeadlineTimerTest, CancelledCallbackNeverRuns) {
  DeadlineTimer timer;
  std::atomic<bool> ran{false};
  absl::Notification after;
  auto id =
      timer.Schedule(absl::Now() + absl::Milliseconds(30), [&] { ran = true; });
  timer.Cancel(id);
  timer.Schedule(absl::Now() + absl::Milliseconds(60), [&] { after.Notify(); });
  ASSERT_TRUE(after.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_FALSE(ran.load());
}

TEST(DeadlineTimerTest, PastDeadlineRunsAtOnceAndAnEarlierOneWakesTheThread) {
  DeadlineTimer timer;
  absl::Notification far, near;
  timer.Schedule(absl::Now() + absl::Hours(1), [&] { far.Notify(); });
  timer.Schedule(absl::Now() - absl::Seconds(1), [&] { near.Notify(); });
  EXPECT_TRUE(near.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_FALSE(far.HasBeenNotified());
}

TEST(DeadlineTimerTest, DestructionDropsPendingCallbacks) {
  std::atomic<bool> ran{false};
  {
    DeadlineTimer timer;
    timer.Schedule(absl::Now() + absl::Hours(1), [&] { ran = true; });
  }
  EXPECT_FALSE(ran.load());
}

}  // namespace
}  // namespace mcpreg::host
