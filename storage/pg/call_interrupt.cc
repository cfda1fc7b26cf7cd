#include "storage/pg/call_interrupt.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace mcpreg::storage::pg {
namespace {

thread_local CallInterrupt* current_interrupt = nullptr;

// The first repeat of a request, doubled up to the last: the server ignores
// one that arrives while the worker is between two statements.
constexpr absl::Duration kFirstResend = absl::Milliseconds(10);
constexpr absl::Duration kLongestResend = absl::Milliseconds(500);

}  // namespace

CallInterrupt::CallInterrupt(StatementCanceller& canceller)
    : canceller_(canceller) {}

void CallInterrupt::Interrupt() {
  bool send = false;
  {
    absl::MutexLock lock(&mu_);
    if (interrupted_) return;
    interrupted_ = true;
    send = armed_ != nullptr;
  }
  if (send) canceller_.Enqueue(shared_from_this());
}

bool CallInterrupt::interrupted() const {
  absl::MutexLock lock(&mu_);
  return interrupted_;
}

CallInterrupt* CallInterrupt::Current() { return current_interrupt; }

bool CallInterrupt::CancelArmedStatement() {
  std::shared_ptr<PGcancel> cancel_key;
  {
    absl::MutexLock lock(&mu_);
    if (armed_ == nullptr) return false;  // disarmed meanwhile
    cancel_key = armed_;
    sent_ = true;  // from now on the request may arrive
  }
  // Outside the lock: Interrupt and Disarm must not wait for the server.
  // The key is a copy libpq made for this (PQgetCancel), so the worker may
  // close the connection meanwhile.
  char error[256];
  PQcancel(cancel_key.get(), error, sizeof(error));
  absl::MutexLock lock(&mu_);
  return armed_ == cancel_key;
}

CallInterrupt::Armed::Armed(CallInterrupt* interrupt,
                            std::shared_ptr<PGcancel> cancel_key)
    : interrupt_(interrupt) {
  if (interrupt_ == nullptr || cancel_key == nullptr) return;
  absl::MutexLock lock(&interrupt_->mu_);
  if (interrupt_->interrupted_) return;
  interrupt_->armed_ = std::move(cancel_key);
  interrupt_->sent_ = false;
  armed_ = true;
}

bool CallInterrupt::Armed::Disarm() {
  if (!armed_) return false;
  armed_ = false;
  absl::MutexLock lock(&interrupt_->mu_);
  interrupt_->armed_ = nullptr;
  return interrupt_->sent_;
}

ScopedCallInterrupt::ScopedCallInterrupt(CallInterrupt* interrupt)
    : previous_(current_interrupt) {
  current_interrupt = interrupt;
}

ScopedCallInterrupt::~ScopedCallInterrupt() { current_interrupt = previous_; }

StatementCanceller::StatementCanceller() : thread_([this] { Run(); }) {}

StatementCanceller::~StatementCanceller() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void StatementCanceller::Enqueue(std::shared_ptr<CallInterrupt> interrupt) {
  absl::MutexLock lock(&mu_);
  Schedule(Due{absl::Now(), kFirstResend, std::move(interrupt)});
}

void StatementCanceller::Schedule(Due due) {
  queue_.insert(
      std::upper_bound(queue_.begin(), queue_.end(), due.at,
                       [](absl::Time at, const Due& d) { return at < d.at; }),
      std::move(due));
}

void StatementCanceller::Run() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    // Wakes for a new request or at the soonest repeat; the condition is
    // evaluated again on every change to the queue.
    const absl::Time soonest =
        queue_.empty() ? absl::InfiniteFuture() : queue_.front().at;
    mu_.AwaitWithDeadline(
        absl::Condition(
            +[](StatementCanceller* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
              return c->stopping_ || (!c->queue_.empty() &&
                                      c->queue_.front().at <= absl::Now());
            },
            this),
        soonest);
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    if (queue_.front().at > absl::Now() && !stopping_) continue;
    Due due = std::move(queue_.front());
    queue_.pop_front();
    mu_.Unlock();
    const bool again = due.interrupt->CancelArmedStatement();
    mu_.Lock();
    // Stopping: the plugin is going away and its calls have ended.
    if (!again || stopping_) continue;
    due.at = absl::Now() + due.backoff;
    due.backoff = std::min(due.backoff * 2, kLongestResend);
    Schedule(std::move(due));
  }
}

}  // namespace mcpreg::storage::pg
