// The REST gateway's probe routes, for load balancers and orchestrators:
//   GET /healthz  liveness: 200 whenever this process answers HTTP; the host
//                 answers it alone, never asking the plugin or its database.
//   GET /readyz   readiness: the plugin's standard health check
//                 (grpc.health.v1.Health/Check, service ""), 200 when it
//                 says SERVING, 503 otherwise, or when it fails or does not
//                 answer within kReadyzDeadline.
// HEAD works on both (cpp-httplib routes it to the GET handler, without body).
#ifndef MCPREG_HOST_HEALTH_ROUTES_H_
#define MCPREG_HOST_HEALTH_ROUTES_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "host/hosted_instance.h"
#include "host/http_routes.h"

namespace httplib {
class Server;
}

namespace mcpreg::host {

// Shorter than a Kubernetes probe's default timeoutSeconds (1 s), so that a
// plugin that does not answer gets a 503, not a probe timeout.
inline constexpr absl::Duration kReadyzDeadline = absl::Milliseconds(500);

// Adds both routes to `server`, ahead of the descriptor routes, which must
// therefore be added after. FAILED_PRECONDITION when the plugin declares
// either path itself: one of the two would be shadowed.
absl::Status AddHealthRoutes(httplib::Server& server, const RouteTable& routes,
                             const HostedInstance* plugin);

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_HEALTH_ROUTES_H_
