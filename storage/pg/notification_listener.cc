#include "storage/pg/notification_listener.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace mcpreg::storage::pg {
namespace {

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::string& channel,
           const std::function<void(const std::string&)>& on_notify)
      : pqxx::notification_receiver(c, channel), on_notify_(on_notify) {}
  void operator()(const std::string& payload, int) override {
    on_notify_(payload);
  }

 private:
  const std::function<void(const std::string&)>& on_notify_;
};

// A listener on a TCP connection that died silently would keep the caches
// "coherent" for as long as the kernel takes to notice (minutes): make it
// notice within seconds. Ignored on unix sockets.
std::string WithKeepalives(const std::string& conninfo) {
  constexpr char kKeyValue[] =
      " keepalives=1 keepalives_idle=5 keepalives_interval=2 "
      "keepalives_count=3 tcp_user_timeout=10000";
  if (conninfo.rfind("postgres", 0) == 0) {  // URI form
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") +
           "keepalives=1&keepalives_idle=5&keepalives_interval=2&"
           "keepalives_count=3&tcp_user_timeout=10000";
  }
  return conninfo + kKeyValue;
}

}  // namespace

NotificationListener::NotificationListener(
    std::string conninfo, std::string channel,
    std::function<void(const std::string&)> on_notify,
    std::function<void(bool)> on_reset)
    : conninfo_(std::move(conninfo)),
      channel_(std::move(channel)),
      on_notify_(std::move(on_notify)),
      on_reset_(std::move(on_reset)),
      thread_([this] { Run(); }) {}

NotificationListener::~NotificationListener() {
  stop_.Notify();
  thread_.join();
}

void NotificationListener::Run() {
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stop_.HasBeenNotified()) {
    try {
      pqxx::connection c(WithKeepalives(conninfo_));
      // Named, so an operator (or a test) can tell it in pg_stat_activity.
      pqxx::nontransaction(c).exec(
          absl::StrCat("SET application_name = ",
                       c.quote(absl::StrCat("mcpreg listener ", channel_))));
      Receiver receiver(c, channel_, on_notify_);
      c.get_notifs();  // sends LISTEN
      listening_ = true;
      on_reset_(true);
      backoff = absl::Milliseconds(100);
      absl::Time next_probe = absl::Now() + absl::Seconds(2);
      while (!stop_.HasBeenNotified()) {
        c.await_notification(0, 200000);
        // A dead server does not always wake the socket: probe now and then.
        if (absl::Now() >= next_probe) {
          pqxx::nontransaction(c).exec("SELECT 1");
          next_probe = absl::Now() + absl::Seconds(2);
        }
      }
    } catch (const std::exception&) {
      // Fall through: reconnect after a pause.
    }
    if (listening_.exchange(false)) on_reset_(false);
    if (stop_.WaitForNotificationWithTimeout(backoff)) break;
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
  listening_ = false;
}

}  // namespace mcpreg::storage::pg
