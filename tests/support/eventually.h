// Waiting in tests for something another thread or process brings about.
#ifndef MCPREG_TESTS_SUPPORT_EVENTUALLY_H_
#define MCPREG_TESTS_SUPPORT_EVENTUALLY_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mcpreg::testing {

// Polls `condition` until it holds or `within` has passed; whether it held.
inline bool Eventually(const std::function<bool()>& condition,
                       absl::Duration within = absl::Seconds(20)) {
  const absl::Time until = absl::Now() + within;
  while (!condition()) {
    if (absl::Now() >= until) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_EVENTUALLY_H_
