#include "host/deadline_timer.h"

#include "absl/time/clock.h"

namespace mcpreg::host {

DeadlineTimer::DeadlineTimer() : thread_([this] { Run(); }) {}

DeadlineTimer::~DeadlineTimer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.Signal();
  thread_.join();
}

DeadlineTimer::Id DeadlineTimer::Schedule(absl::Time when,
                                          std::function<void()> fn) {
  bool sooner;
  Id id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
    by_id_[id] = pending_.emplace(when, std::make_pair(id, std::move(fn)));
    // Nearly every call's deadline is later than the one the thread waits
    // for; only a sooner one is worth two context switches.
    sooner = when < waiting_until_;
    if (sooner) waiting_until_ = absl::InfinitePast();  // one signal is enough
  }
  if (sooner) wake_.Signal();
  return id;
}

void DeadlineTimer::Cancel(Id id) {
  // Never wakes the thread: a cancelled earliest deadline just means one
  // early, idle wake-up.
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  pending_.erase(it->second);
  by_id_.erase(it);
}

void DeadlineTimer::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    auto first = pending_.begin();
    if (first != pending_.end() && first->first <= absl::Now()) {
      std::function<void()> fn = std::move(first->second.second);
      by_id_.erase(first->second.first);
      pending_.erase(first);
      mu_.Unlock();
      fn();
      mu_.Lock();
      continue;
    }
    waiting_until_ =
        first == pending_.end() ? absl::InfiniteFuture() : first->first;
    // Returns at that time, on a sooner Schedule, on shutdown, or
    // spuriously; the loop looks again in every case.
    wake_.WaitWithDeadline(&mu_, waiting_until_);
    waiting_until_ = absl::InfinitePast();
  }
}

}  // namespace mcpreg::host
