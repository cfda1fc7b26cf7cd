// Lets a call cancelled on another thread (its client went away) stop the
// database statement its worker is blocked in, so that the connection goes
// back to the pool now rather than at the statement's timeout.
//
// The worker installs the call's CallInterrupt for as long as it runs the
// call (ScopedCallInterrupt); RunTransaction and RunReadOnly arm it with
// each connection they lease. Interrupt(), from any thread, has the
// StatementCanceller send PostgreSQL a cancel request for the armed
// connection, and makes the call's later database work fail with CANCELLED
// without starting. A connection that was sent a cancel request is closed,
// not pooled: the request may reach the server after its statement ended,
// and must not cancel the next caller's.
#ifndef MCPREG_STORAGE_PG_CALL_INTERRUPT_H_
#define MCPREG_STORAGE_PG_CALL_INTERRUPT_H_

#include <deque>
#include <memory>
#include <pqxx/pqxx>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

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

  // While armed, Interrupt cancels what `connection` runs. `interrupt` may
  // be null (nothing to arm); an interrupted one is not armed again.
  class Armed {
   public:
    Armed(CallInterrupt* interrupt, pqxx::connection_base& connection);
    ~Armed() { Disarm(); }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;

    // Waits for a cancel request being sent, then stops arming; true when
    // one was sent to the connection (do not pool it again).
    bool Disarm();

   private:
    CallInterrupt* interrupt_;
    bool armed_ = false;
  };

 private:
  friend class StatementCanceller;
  void CancelArmedStatement();  // on the canceller's thread

  StatementCanceller& canceller_;
  mutable absl::Mutex mu_;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
  pqxx::connection_base* armed_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool sending_ ABSL_GUARDED_BY(mu_) = false;  // cancel request on its way
  bool sent_ ABSL_GUARDED_BY(mu_) = false;     // to the armed connection
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
  ~StatementCanceller();  // sends what is queued, then stops
  StatementCanceller(const StatementCanceller&) = delete;
  StatementCanceller& operator=(const StatementCanceller&) = delete;

  void Enqueue(std::shared_ptr<CallInterrupt> interrupt);

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::shared_ptr<CallInterrupt>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_CALL_INTERRUPT_H_
