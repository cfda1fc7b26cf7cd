// The host's side of "the plugin may complete a call from inside cancel".
//
// The host calls the plugin's cancel without holding the call's lock, and
// records which thread is inside it. A completion that arrives on that same
// thread is the plugin completing from inside cancel and goes ahead; one
// arriving on any other thread waits until cancel has returned, so the
// plugin never sees its completion return while its cancel is still running.
#ifndef MCPREG_HOST_CANCEL_HANDSHAKE_H_
#define MCPREG_HOST_CANCEL_HANDSHAKE_H_

#include <thread>

#include "absl/synchronization/mutex.h"

namespace mcpreg::host {

// Called by a completion with `mu` held; `cancelling_thread` is guarded by it
// and is std::thread::id() when no cancel is running.
inline void WaitForCancelElsewhere(absl::Mutex& mu,
                                   const std::thread::id& cancelling_thread)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
  // The condition may be evaluated on another thread: capture ours now.
  struct Args {
    const std::thread::id* cancelling;
    std::thread::id me;
  } args{&cancelling_thread, std::this_thread::get_id()};
  mu.Await(absl::Condition(
      +[](Args* a) {
        return *a->cancelling == std::thread::id() || *a->cancelling == a->me;
      },
      &args));
}

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_CANCEL_HANDSHAKE_H_
