#include "host/health_routes.h"

#include <httplib.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/unknown_field_set.h"
#include "host/plugin_call.h"
#include "host/rest_errors.h"

namespace mcpreg::host {
namespace {

constexpr char kHealthz[] = "/healthz";
constexpr char kReadyz[] = "/readyz";
constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";
constexpr int kServing = 1;  // HealthCheckResponse.ServingStatus.SERVING

// HealthCheckResponse.status (field 1), read as a raw field: the host links
// no .proto the plugin also links (libprotobuf's generated pool is shared).
// An absent field is the enum's default, UNKNOWN (0).
int ServingStatus(const std::string& response) {
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(response)) return 0;
  int status = 0;
  for (int i = 0; i < fields.field_count(); ++i) {
    const auto& f = fields.field(i);
    if (f.number() == 1 &&
        f.type() == google::protobuf::UnknownField::TYPE_VARINT) {
      status = static_cast<int>(f.varint());  // the last one wins
    }
  }
  return status;
}

const char* StatusName(int status) {
  switch (status) {
    case 1:
      return "SERVING";
    case 2:
      return "NOT_SERVING";
    case 3:
      return "SERVICE_UNKNOWN";
    default:
      return "UNKNOWN";
  }
}

void Readyz(const HostedInstance& plugin, const httplib::Request& req,
            httplib::Response& res) {
  const std::string peer = absl::StrCat(
      req.remote_addr.find(':') == std::string::npos ? "ipv4:" : "ipv6:",
      req.remote_addr, ":", req.remote_port);
  // An empty HealthCheckRequest: service "", the server as a whole.
  PluginReply reply = CallPluginAndWait(plugin, kHealthCheck, {}, peer, "",
                                        absl::Now() + kReadyzDeadline);
  if (reply.code != MCPREG_STATUS_OK) {
    res.status = 503;
    res.set_content(absl::StrCat(R"({"status":"UNKNOWN","error":")",
                                 GrpcCodeName(reply.code), R"("})"),
                    "application/json");
    return;
  }
  const int status = ServingStatus(reply.response);
  res.status = status == kServing ? 200 : 503;
  res.set_content(absl::StrCat(R"({"status":")", StatusName(status), R"("})"),
                  "application/json");
}

}  // namespace

absl::Status AddHealthRoutes(httplib::Server& server, const RouteTable& routes,
                             const HostedInstance* plugin) {
  for (const char* path : {kHealthz, kReadyz}) {
    // Any verb: NOT_FOUND means no route has the path at all.
    if (routes.Match("GET", path).status().code() !=
        absl::StatusCode::kNotFound) {
      return absl::FailedPreconditionError(
          absl::StrCat("REST routes: the plugin declares ", path,
                       ", which the host keeps for its own probes"));
    }
  }
  server.Get(kHealthz, [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(R"({"status":"ALIVE"})", "application/json");
  });
  server.Get(kReadyz,
             [plugin](const httplib::Request& req, httplib::Response& res) {
               Readyz(*plugin, req, res);
             });
  return absl::OkStatus();
}

}  // namespace mcpreg::host
