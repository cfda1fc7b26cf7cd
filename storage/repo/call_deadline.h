// When one call's work on artifacts must stop: at its deadline, or as soon as
// its caller has gone. Storage checks it between chunks of work (a block
// read, hashed or inflated), so a large, slow or hostile file costs a call no
// more than the call's own time.
#ifndef MCPREG_STORAGE_REPO_CALL_DEADLINE_H_
#define MCPREG_STORAGE_REPO_CALL_DEADLINE_H_

#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mcpreg::storage {

class CallDeadline {
 public:
  // Never expires: start-up work, tools, tests.
  CallDeadline() = default;
  // `cancelled`, when given, is polled at every check, from the working
  // thread: it must be cheap (a handler passes CallContext::cancelled).
  explicit CallDeadline(absl::Time at, std::function<bool()> cancelled = {})
      : at_(at), cancelled_(std::move(cancelled)) {}

  absl::Time at() const { return at_; }

  // OK while the work may go on; CANCELLED once the caller has gone,
  // DEADLINE_EXCEEDED once `at` has passed. `what` says which work stopped
  // ("hashing 'a.tgz'").
  absl::Status Check(absl::string_view what) const {
    if (cancelled_ && cancelled_()) {
      return absl::CancelledError(
          absl::StrCat(what, " stopped: the call was cancelled"));
    }
    if (at_ != absl::InfiniteFuture() && absl::Now() >= at_) {
      return absl::DeadlineExceededError(
          absl::StrCat(what, " did not finish before the call's deadline"));
    }
    return absl::OkStatus();
  }

 private:
  absl::Time at_ = absl::InfiniteFuture();
  std::function<bool()> cancelled_;
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_CALL_DEADLINE_H_
