// One thread that runs callbacks at given times. The host uses it to end a
// call at its deadline even when the plugin never completes it.
#ifndef MCPREG_HOST_DEADLINE_TIMER_H_
#define MCPREG_HOST_DEADLINE_TIMER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mcpreg::host {

class DeadlineTimer {
 public:
  using Id = uint64_t;

  DeadlineTimer();
  ~DeadlineTimer();  // Drops pending callbacks without running them.

  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Runs `fn` on the timer thread at `when` unless cancelled first.
  Id Schedule(absl::Time when, std::function<void()> fn);
  // Forgets a pending callback; a no-op once it has started.
  void Cancel(Id id);

 private:
  void Run();

  absl::Mutex mu_;
  // Signalled only by a Schedule earlier than the time the thread sleeps
  // until (see Run). A plain condition variable, not Mutex::Await: a thread
  // awaiting a condition makes every unlock of mu_ take the slow path and
  // evaluate it, and every call schedules and cancels here — under load that
  // cost a fifth of the host's CPU per GetPluginInfo.
  absl::CondVar wake_;
  // When the thread's current wait ends; InfinitePast while it is not
  // waiting (running callbacks, or about to look again).
  absl::Time waiting_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::multimap<absl::Time, std::pair<Id, std::function<void()>>> pending_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Id, decltype(pending_)::iterator> by_id_
      ABSL_GUARDED_BY(mu_);
  Id next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_DEADLINE_TIMER_H_
