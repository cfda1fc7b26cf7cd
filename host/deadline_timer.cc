#include "deadline_timer.h"

#include "absl/time/clock.h"

namespace mcpreg::host {

DeadlineTimer::DeadlineTimer() : thread_([this] { Run(); }) {}

DeadlineTimer::~DeadlineTimer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

DeadlineTimer::Id DeadlineTimer::Schedule(absl::Time when,
                                          std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  const Id id = next_id_++;
  by_id_[id] = pending_.emplace(when, std::make_pair(id, std::move(fn)));
  return id;
}

void DeadlineTimer::Cancel(Id id) {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  pending_.erase(it->second);
  by_id_.erase(it);
}

void DeadlineTimer::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (pending_.empty()) {
      mu_.Await(absl::Condition(
          +[](DeadlineTimer* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu_) {
            return t->stopping_ || !t->pending_.empty();
          },
          this));
      continue;
    }
    auto first = pending_.begin();
    if (first->first > absl::Now()) {
      // Wake at the earliest deadline, or sooner only for a sooner one. Every
      // call schedules and cancels a deadline, nearly always a later one:
      // waking for each of those would cost two context switches per call.
      // (A cancelled earliest deadline just means one early, idle wake-up.)
      struct Args {
        DeadlineTimer* timer;
        absl::Time earliest;
      } args{this, first->first};
      mu_.AwaitWithDeadline(
          absl::Condition(
              +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                return a->timer->stopping_ ||
                       (!a->timer->pending_.empty() &&
                        a->timer->pending_.begin()->first < a->earliest);
              },
              &args),
          args.earliest);
      continue;
    }
    std::function<void()> fn = std::move(first->second.second);
    by_id_.erase(first->second.first);
    pending_.erase(first);
    mu_.Unlock();
    fn();
    mu_.Lock();
  }
}

}  // namespace mcpreg::host
