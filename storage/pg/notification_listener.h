// A dedicated connection that LISTENs on one channel and hands each payload
// to a callback, reconnecting with backoff when the database goes away.
// Notifications sent while disconnected are lost, so every (re)connect calls
// `on_reset`: a cache built on notifications must start over then.
#ifndef MCPREG_STORAGE_PG_NOTIFICATION_LISTENER_H_
#define MCPREG_STORAGE_PG_NOTIFICATION_LISTENER_H_

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"

namespace mcpreg::storage::pg {

class NotificationListener {
 public:
  NotificationListener(std::string conninfo, std::string channel,
                       std::function<void(const std::string&)> on_notify,
                       std::function<void(bool connected)> on_reset);
  ~NotificationListener();  // stops the thread and closes the connection

  NotificationListener(const NotificationListener&) = delete;
  NotificationListener& operator=(const NotificationListener&) = delete;

  // True while LISTEN is active; callers relying on notifications must not
  // trust cached state while this is false.
  bool listening() const { return listening_.load(); }

 private:
  void Run();

  const std::string conninfo_;
  const std::string channel_;
  const std::function<void(const std::string&)> on_notify_;
  const std::function<void(bool)> on_reset_;
  std::atomic<bool> listening_{false};
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace mcpreg::storage::pg

#endif  // MCPREG_STORAGE_PG_NOTIFICATION_LISTENER_H_
