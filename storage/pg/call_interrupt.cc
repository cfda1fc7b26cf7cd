#include "call_interrupt.h"

#include <utility>

namespace mcpreg::storage::pg {
namespace {

thread_local CallInterrupt* current_interrupt = nullptr;

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

void CallInterrupt::CancelArmedStatement() {
  pqxx::connection_base* connection = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (armed_ == nullptr || sent_) return;  // disarmed meanwhile
    connection = armed_;
    sending_ = true;
  }
  // libpqxx's way to cancel from another thread (PQgetCancel, PQcancel).
  // Outside the lock: Interrupt must not wait for the server.
  try {
    connection->cancel_query();
  } catch (const std::exception&) {
    // The server is unreachable: the statement ends at its timeout.
  }
  absl::MutexLock lock(&mu_);
  sending_ = false;
  sent_ = true;
}

CallInterrupt::Armed::Armed(CallInterrupt* interrupt,
                            pqxx::connection_base& connection)
    : interrupt_(interrupt) {
  if (interrupt_ == nullptr) return;
  absl::MutexLock lock(&interrupt_->mu_);
  if (interrupt_->interrupted_) return;
  interrupt_->armed_ = &connection;
  interrupt_->sent_ = false;
  armed_ = true;
}

bool CallInterrupt::Armed::Disarm() {
  if (!armed_) return false;
  armed_ = false;
  absl::MutexLock lock(&interrupt_->mu_);
  // The connection must stay open until a request being sent has gone.
  interrupt_->mu_.Await(absl::Condition(
      +[](CallInterrupt* i)
           ABSL_EXCLUSIVE_LOCKS_REQUIRED(i->mu_) { return !i->sending_; },
      interrupt_));
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
  queue_.push_back(std::move(interrupt));
}

void StatementCanceller::Run() {
  for (;;) {
    std::shared_ptr<CallInterrupt> next;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](StatementCanceller* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
            return c->stopping_ || !c->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, nothing left
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    next->CancelArmedStatement();
  }
}

}  // namespace mcpreg::storage::pg
