// A gRPC generic service that forwards every call to the plugin through the
// C ABI: the host routes by method name and never parses a message. Status,
// message, binary details and response bytes come back unchanged.
#ifndef MCPREG_HOST_FORWARDING_SERVICE_H_
#define MCPREG_HOST_FORWARDING_SERVICE_H_

#include <grpcpp/generic/async_generic_service.h>

#include "absl/time/time.h"
#include "host/deadline_timer.h"
#include "host/hosted_instance.h"

namespace mcpreg::host {

struct ForwardingOptions {
  // Every call ends by now + this at the latest, and a call with no deadline
  // gets it as its deadline.
  absl::Duration max_call_timeout = absl::Seconds(30);
};

class ForwardingService : public grpc::CallbackGenericService {
 public:
  ForwardingService(const HostedInstance* plugin, ForwardingOptions options);

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;

 private:
  const HostedInstance* plugin_;
  const ForwardingOptions options_;
  DeadlineTimer timer_;
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_FORWARDING_SERVICE_H_
