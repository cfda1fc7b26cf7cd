#include "host/rest_gateway.h"

#include <httplib.h>

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "host/health_routes.h"
#include "host/http_routes.h"
#include "host/json_transcoder.h"
#include "host/log.h"
#include "host/plugin_call.h"
#include "host/rest_connections.h"
#include "plugin/sdk/abi_status.h"

namespace mcpreg::host {
namespace {

// Indexed by status code (mcpreg_status_code).
constexpr const char* kCodeNames[] = {"OK",
                                      "CANCELLED",
                                      "UNKNOWN",
                                      "INVALID_ARGUMENT",
                                      "DEADLINE_EXCEEDED",
                                      "NOT_FOUND",
                                      "ALREADY_EXISTS",
                                      "PERMISSION_DENIED",
                                      "RESOURCE_EXHAUSTED",
                                      "FAILED_PRECONDITION",
                                      "ABORTED",
                                      "OUT_OF_RANGE",
                                      "UNIMPLEMENTED",
                                      "INTERNAL",
                                      "UNAVAILABLE",
                                      "DATA_LOSS",
                                      "UNAUTHENTICATED"};

std::string ErrorJson(int code, const std::string& message) {
  google::protobuf::Struct error;
  auto& f = *error.mutable_fields();
  f["code"].set_string_value(GrpcCodeName(code));
  f["message"].set_string_value(message);
  f["details"].mutable_list_value();
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(error, &json);
  return json;
}

void SendError(httplib::Response& res, int code, const std::string& message,
               int http_status = 0) {
  res.status = http_status != 0 ? http_status : HttpStatusForGrpcCode(code);
  res.set_content(ErrorJson(code, message), "application/json");
}

// "127.0.0.1:8080", "[::1]:0", "localhost:8080".
bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  *host = address.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return !host->empty() && absl::SimpleAtoi(address.substr(colon + 1), port) &&
         *port >= 0 && *port <= 65535;
}

// A request's body, read through cpp-httplib's content reader so that its
// size is limited as it arrives, once chunked framing and any
// Content-Encoding are undone: the library itself would read a chunked or a
// compressed body whole, whatever its size. nullopt when `res` holds the
// answer instead.
std::optional<std::string> ReadBody(const httplib::Request& req,
                                    httplib::Response& res,
                                    const httplib::ContentReader& reader,
                                    size_t max_body) {
  if (req.is_multipart_form_data()) {
    SendError(res, MCPREG_STATUS_INVALID_ARGUMENT,
              "request body: JSON expected, not multipart/form-data", 415);
    return std::nullopt;
  }
  std::string body;
  bool too_large = false;
  const bool read = reader([&](const char* data, size_t size) {
    if (size > max_body - body.size()) {
      too_large = true;
      return false;  // stops reading here
    }
    body.append(data, size);
    return true;
  });
  if (too_large) {
    SendError(res, MCPREG_STATUS_RESOURCE_EXHAUSTED,
              absl::StrCat("request body: larger than ", max_body, " bytes"),
              413);
    return std::nullopt;
  }
  if (!read) {
    SendError(res, MCPREG_STATUS_INVALID_ARGUMENT,
              "the request body could not be read", 400);
    return std::nullopt;
  }
  return body;
}

// A request for one of the plugin's routes: matched, transcoded, forwarded,
// and the answer transcoded back.
void Forward(const RouteTable& table, JsonTranscoder& transcoder,
             const HostedInstance& plugin, absl::Duration max_timeout,
             const httplib::Request& req, const std::string& body,
             httplib::Response& res) {
  // req.path is already percent-decoded; an encoded '/' inside a path
  // variable must stay inside it, so match the raw target instead.
  const std::string raw_path = req.target.substr(0, req.target.find('?'));
  absl::StatusOr<RouteMatch> match = table.Match(req.method, raw_path);
  if (!match.ok()) {
    SendError(
        res, AbiCodeFromStatus(match.status().code()),
        std::string(match.status().message()),
        match.status().code() == absl::StatusCode::kUnimplemented ? 405 : 404);
    return;
  }
  std::multimap<std::string, std::string> query(req.params.begin(),
                                                req.params.end());
  absl::StatusOr<std::string> request = transcoder.Request(*match, body, query);
  if (!request.ok()) {
    SendError(res, AbiCodeFromStatus(request.status().code()),
              std::string(request.status().message()));
    return;
  }
  std::vector<std::pair<std::string, std::string>> metadata;
  for (const auto& [key, value] : req.headers) {
    metadata.emplace_back(absl::AsciiStrToLower(key), value);
  }
  const std::string peer = absl::StrCat(
      req.remote_addr.find(':') == std::string::npos ? "ipv4:" : "ipv6:",
      req.remote_addr, ":", req.remote_port);
  PluginReply reply =
      CallPluginAndWait(plugin, match->route->grpc_method, metadata, peer,
                        *request, absl::Now() + max_timeout);
  if (reply.code != MCPREG_STATUS_OK) {
    SendError(res, reply.code, reply.message);
    return;
  }
  absl::StatusOr<std::string> json =
      transcoder.ResponseJson(*match->route, reply.response);
  if (!json.ok()) {
    SendError(res, MCPREG_STATUS_INTERNAL,
              std::string(json.status().message()));
    return;
  }
  res.status = 200;
  res.set_content(*json, "application/json");
}

}  // namespace

const char* GrpcCodeName(int code) { return kCodeNames[ClampAbiCode(code)]; }

int HttpStatusForGrpcCode(int code) {
  switch (code) {
    case MCPREG_STATUS_OK:
      return 200;
    case MCPREG_STATUS_CANCELLED:
      return 499;
    case MCPREG_STATUS_INVALID_ARGUMENT:
      return 400;
    case MCPREG_STATUS_DEADLINE_EXCEEDED:
      return 504;
    case MCPREG_STATUS_NOT_FOUND:
      return 404;
    case MCPREG_STATUS_ALREADY_EXISTS:
      return 409;
    case MCPREG_STATUS_PERMISSION_DENIED:
      return 403;
    case MCPREG_STATUS_RESOURCE_EXHAUSTED:
      return 429;
    case MCPREG_STATUS_FAILED_PRECONDITION:
      return 412;
    case MCPREG_STATUS_ABORTED:
      return 409;
    case MCPREG_STATUS_OUT_OF_RANGE:
      return 400;
    case MCPREG_STATUS_UNIMPLEMENTED:
      return 501;
    case MCPREG_STATUS_UNAVAILABLE:
      return 503;
    case MCPREG_STATUS_UNAUTHENTICATED:
      return 401;
    default:
      return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

absl::StatusOr<std::unique_ptr<RestGateway>> RestGateway::Start(
    const config::v1::HostConfig& config, const HostedInstance* plugin) {
  std::unique_ptr<RestGateway> g(new RestGateway());
  auto routes =
      RouteTable::Build(plugin->file_descriptor_set(), plugin->methods());
  if (!routes.ok()) {
    return absl::Status(
        routes.status().code(),
        absl::StrCat("REST routes: ", routes.status().message()));
  }
  g->routes_ = std::move(*routes);
  g->transcoder_ = std::make_unique<JsonTranscoder>(g->routes_->pool());

  // Connections are the host's (rest_connections.h): limits that hold
  // before a request reaches the plugin, and one write per response.
  const RestLimits limits = RestLimits::FromConfig(config);
  g->connections_ = std::make_unique<RestConnections>(limits, &ErrorJson);
  std::function<bool()> raise_backlog;
  if (config.has_tls()) {
    const auto& tls = config.tls();
    auto server = std::make_unique<LimitedServer<httplib::SSLServer>>(
        g->connections_.get(), tls.cert_file().c_str(), tls.key_file().c_str(),
        tls.client_ca_file().empty() ? nullptr : tls.client_ca_file().c_str());
    if (!server->is_valid()) {
      return absl::InvalidArgumentError(
          "tls: the REST port cannot use the certificate or key");
    }
    raise_backlog = [s = server.get()] { return s->RaiseListenBacklog(); };
    g->server_ = std::move(server);
  } else {
    auto server =
        std::make_unique<LimitedServer<httplib::Server>>(g->connections_.get());
    raise_backlog = [s = server.get()] { return s->RaiseListenBacklog(); };
    g->server_ = std::move(server);
  }
  httplib::Server& server = *g->server_;
  // What the Keep-Alive header advertises; the connections layer applies it.
  server.set_keep_alive_timeout(std::max<time_t>(
      1, static_cast<time_t>(absl::ToInt64Seconds(limits.idle_timeout))));
  server.set_keep_alive_max_count(kMaxRequestsPerConnection);
  const size_t max_body = config.max_request_bytes();
  // Content-Length over the limit never gets here (the connections layer
  // answers 413); the rest is ReadBody's.
  server.set_payload_max_length(max_body);
  server.set_error_handler([max_body](const httplib::Request&,
                                      httplib::Response& res) {
    if (res.status == 413) {
      SendError(res, MCPREG_STATUS_RESOURCE_EXHAUSTED,
                absl::StrCat("request body: larger than ", max_body, " bytes"),
                413);
    } else if (res.body.empty()) {
      SendError(res, MCPREG_STATUS_INVALID_ARGUMENT,
                "the request could not be read", res.status);
    }
  });
  // The probes first: cpp-httplib tries handlers in the order added.
  if (absl::Status s = AddHealthRoutes(server, *g->routes_, plugin); !s.ok()) {
    return s;
  }
  const auto forward =
      [table = g->routes_.get(), transcoder = g->transcoder_.get(), plugin,
       max_timeout = absl::Milliseconds(config.max_call_timeout_ms())](
          const httplib::Request& req, const std::string& body,
          httplib::Response& res) {
        Forward(*table, *transcoder, *plugin, max_timeout, req, body, res);
      };
  // Verbs with a body read it through a content reader (ReadBody).
  const auto with_body =
      [forward, max_body](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
        if (std::optional<std::string> body =
                ReadBody(req, res, reader, max_body)) {
          forward(req, *body, res);
        }
      };
  const std::string any = ".*";
  server.Get(any, [forward](const httplib::Request& req,
                            httplib::Response& res) { forward(req, "", res); });
  server.Post(any, with_body);
  server.Put(any, with_body);
  server.Delete(any, with_body);
  server.Patch(any, with_body);

  std::string host;
  int port = 0;
  if (!SplitHostPort(config.rest_listen(), &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "restListen: '", config.rest_listen(), "' is not HOST:PORT"));
  }
  if (port == 0) {
    port = server.bind_to_any_port(host);
    if (port < 0) port = 0;
  } else if (!server.bind_to_port(host, port)) {
    port = 0;
  }
  if (port == 0) {
    return absl::UnavailableError(
        absl::StrCat("restListen: cannot listen on ", config.rest_listen()));
  }
  if (!raise_backlog()) {
    LogWarning("REST: the listen backlog stays at cpp-httplib's 5");
  }
  g->address_ = absl::StrCat(
      host.find(':') == std::string::npos ? host : absl::StrCat("[", host, "]"),
      ":", port);
  g->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // stop() is a no-op until the server runs: wait, so a stop signal that
  // comes at once cannot leave Stop() joining forever.
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return g;
}

size_t RestGateway::route_count() const { return routes_->routes().size(); }

void RestGateway::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
  if (connections_ != nullptr) connections_->Shutdown();
}

RestGateway::~RestGateway() { Stop(); }

}  // namespace mcpreg::host
