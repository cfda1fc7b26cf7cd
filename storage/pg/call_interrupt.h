// Lets a call cancelled on another thread (its client went away) stop the
// database statement its worker is blocked in, so that the connection goes
// back to the pool now rather than at the statement's timeout.
//
// The worker installs the call's CallInterrupt for as long as it runs the
// call (ScopedCallInterrupt); RunTransaction and RunReadOnly arm it with
// the cancel key of each connection they lease, and stop waiting for a
// connection once it fires. Interrupt(), from any thread, has the
// StatementCanceller send PostgreSQL a cancel request for the armed
// connection — again, backing off, until the worker disarms, since the
// server ignores a request that arrives between two statements — and makes
// the call's later database work fail with CANCELLED without starting. A
// connection that was sent a cancel request is closed, not pooled: the
// request may reach the server after its statement ended, and must not
// cancel the next caller's.
#ifndef MCPREG_STORAGE_PG_CALL_INTERRUPT_H_
#define MCPREG_STORAGE_PG_CALL_INTERRUPT_H_

#include <libpq-fe.h>

#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mcpreg::storage::pg {

class StatementCanceller;

class CallInterrupt : public std::enable_shared_from_this<CallInterrupt> {
 public:
  // Make it with std::make_shared: Interrupt hands the canceller a share.
  explicit CallInterrupt(StatementCanceller& canceller);

  CallInterrupt(const CallInterrupt&) = delete;
  CallInterrupt& operator=(const CallInterrupt&) = delete;

  // From any thread, any number of times; never blocks on the database.
  void Interrupt();
  bool interrupted() const;

  // The interrupt installed on this thread, or nullptr.
  static CallInterrupt* Current();

  // While armed, Interrupt cancels what the connection of `cancel_key`
  // runs. `interrupt` may be null (nothing to arm); an interrupted one is
  // not armed again.
  class Armed {
   public:
    Armed(CallInterrupt* interrupt, std::shared_ptr<PGcancel> cancel_key);
    ~Armed() { Disarm(); }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;

    // Stops arming; true when a cancel request was (or is being) sent to
    // the connection, which must then not be pooled again. Never waits.
    bool Disarm();

   private:
    CallInterrupt* interrupt_;
    bool armed_ = false;
  };

 private:
  friend class StatementCanceller;
  // On the canceller's thread: sends a request if armed; true when it
  // should be sent again later (the worker has not disarmed yet).
  bool CancelArmedStatement();

  StatementCanceller& canceller_;
  mutable absl::Mutex mu_;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<PGcancel> armed_ ABSL_GUARDED_BY(mu_);
  bool sent_ ABSL_GUARDED_BY(mu_) = false;  // to the armed connection
};

// Installs `interrupt` as this thread's current one while alive.
class ScopedCallInterrupt {
 public:
  explicit ScopedCallInterrupt(CallInterrupt* interrupt);
  ~ScopedCallInterrupt();
  ScopedCallInterrupt(const ScopedCallInterrupt&) = delete;
  ScopedCallInterrupt& operator=(const ScopedCallInterrupt&) = delete;

 private:
  CallInterrupt* previous_;
};

// One thread that sends cancel requests. Sending one opens a connection
// to the server (libpq's PQcancel), which may block; the thread that
// cancels a call — the host's — must not.
class StatementCanceller {
 public:
  StatementCanceller();
  ~StatementCanceller();  // sends what is due, then stops
  StatementCanceller(const StatementCanceller&) = delete;
  StatementCanceller& operator=(const StatementCanceller&) = delete;

  void Enqueue(std::shared_ptr<CallInterrupt> interrupt);

 private:
  struct Due {
    absl::Time at;
    absl::Duration backoff;  // before the next request, if one is needed
    std::shared_ptr<CallInterrupt> interrupt;
  };
  void Schedule(Due due) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();

  absl::Mutex mu_;
  std::deque<Due> queue_ ABSL_GUARDED_BY(mu_);  // soonest first
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_CALL_INTERRUPT_H_
