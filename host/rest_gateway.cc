#include "host/rest_gateway.h"

#include <httplib.h>

#include <functional>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "host/health_routes.h"
#include "host/http_routes.h"
#include "host/json_transcoder.h"
#include "host/log.h"
#include "host/plugin_call.h"
#include "host/rest_connections.h"
#include "host/rest_errors.h"
#include "host/ui_routes.h"
#include "plugin/sdk/abi_status.h"

namespace mcpreg::host {
namespace {

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
// compressed body whole, whatever its size. A multipart/form-data body only
// for a route that takes it raw (`multipart`), re-framed by ReadMultipart.
// nullopt when `res` holds the answer instead.
std::optional<std::string> ReadBody(const httplib::Request& req,
                                    httplib::Response& res,
                                    const httplib::ContentReader& reader,
                                    size_t max_body, bool multipart,
                                    std::string* content_type);

// "mcpreg-" and 32 hex digits from the system's random source.
std::string RandomBoundary() {
  std::random_device random;  // /dev/urandom
  std::string boundary = "mcpreg-";
  for (int i = 0; i < 4; ++i) {
    absl::StrAppend(&boundary, absl::Hex(random(), absl::kZeroPad8));
  }
  return boundary;
}

// Re-frames a multipart/form-data body, which cpp-httplib only hands out
// parsed, as one again, with a boundary of our own that no part contains.
// Each part keeps its name, filename and Content-Type; nothing else.
std::optional<std::string> ReadMultipart(const httplib::ContentReader& reader,
                                         size_t max_body, bool* too_large,
                                         std::string* content_type) {
  std::vector<httplib::MultipartFormData> parts;
  size_t total = 0;
  const bool read = reader(
      [&](const httplib::MultipartFormData& header) {
        parts.push_back(header);
        parts.back().content.clear();
        return parts.size() <= 1000;
      },
      [&](const char* data, size_t size) {
        if (parts.empty() || size > max_body - total) {
          *too_large = !parts.empty();
          return false;
        }
        total += size;
        parts.back().content.append(data, size);
        return true;
      });
  if (!read) return std::nullopt;
  const auto clean = [](const std::string& v) {
    std::string out;
    for (char c : v) {
      if (c != '"' && c != '\\' && c != '\r' && c != '\n') out += c;
    }
    return out;
  };
  // A boundary the sender cannot know in advance, so it cannot make its
  // parts collide with it: one scan of the body, redrawn at most twice
  // (a chance collision of 128 random bits), never grown.
  std::string boundary;
  for (int attempt = 0; boundary.empty(); ++attempt) {
    if (attempt == 3) return std::nullopt;
    boundary = RandomBoundary();
    for (const auto& part : parts) {
      if (part.content.find(boundary) != std::string::npos) boundary.clear();
    }
  }
  std::string body;
  for (const auto& part : parts) {
    absl::StrAppend(&body, "--", boundary,
                    "\r\nContent-Disposition: form-data; name=\"",
                    clean(part.name), "\"");
    if (!part.filename.empty()) {
      absl::StrAppend(&body, "; filename=\"", clean(part.filename), "\"");
    }
    body += "\r\n";
    if (!part.content_type.empty()) {
      absl::StrAppend(&body, "Content-Type: ", clean(part.content_type),
                      "\r\n");
    }
    absl::StrAppend(&body, "\r\n", part.content, "\r\n");
  }
  absl::StrAppend(&body, "--", boundary, "--\r\n");
  *content_type = absl::StrCat("multipart/form-data; boundary=", boundary);
  return body;
}

std::optional<std::string> ReadBody(const httplib::Request& req,
                                    httplib::Response& res,
                                    const httplib::ContentReader& reader,
                                    size_t max_body, bool multipart,
                                    std::string* content_type) {
  *content_type = req.get_header_value("Content-Type");
  bool too_large = false;
  std::optional<std::string> body;
  if (req.is_multipart_form_data()) {
    if (!multipart) {
      SendError(res, MCPREG_STATUS_INVALID_ARGUMENT,
                "request body: JSON expected, not multipart/form-data", 415);
      return std::nullopt;
    }
    body = ReadMultipart(reader, max_body, &too_large, content_type);
  } else {
    body.emplace();
    const bool read = reader([&](const char* data, size_t size) {
      if (size > max_body - body->size()) {
        too_large = true;
        return false;  // stops reading here
      }
      body->append(data, size);
      return true;
    });
    if (!read) body.reset();
  }
  if (too_large) {
    SendError(res, MCPREG_STATUS_RESOURCE_EXHAUSTED,
              absl::StrCat("request body: larger than ", max_body, " bytes"),
              413);
    return std::nullopt;
  }
  if (!body.has_value()) {
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
             const std::string& content_type, httplib::Response& res) {
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
  absl::StatusOr<std::string> request =
      transcoder.Request(*match, body, query, content_type);
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
    SendPluginError(res, reply, match->route->raw_response);
    return;
  }
  if (match->route->raw_response) {
    absl::StatusOr<JsonTranscoder::RawBody> raw =
        JsonTranscoder::ResponseRaw(*match->route, reply.response);
    if (!raw.ok()) {
      SendError(res, MCPREG_STATUS_INTERNAL,
                std::string(raw.status().message()));
      return;
    }
    res.status = 200;
    res.set_content(std::move(raw->data), raw->content_type);
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
  std::function<bool()> raise_backlog;
  if (absl::Status s = g->CreateServer(config, &raise_backlog); !s.ok()) {
    return s;
  }
  if (absl::Status s = g->AddRoutes(config, plugin); !s.ok()) return s;
  if (absl::Status s = g->Listen(config.rest_listen(), raise_backlog);
      !s.ok()) {
    return s;
  }
  return g;
}

absl::Status RestGateway::CreateServer(const config::v1::HostConfig& config,
                                       std::function<bool()>* raise_backlog) {
  // Connections are the host's (rest_connections.h): limits that hold
  // before a request reaches the plugin, and one write per response.
  const RestLimits limits = RestLimits::FromConfig(config);
  connections_ = std::make_unique<RestConnections>(limits, &ErrorJson);
  if (config.has_tls()) {
    const auto& tls = config.tls();
    auto server = std::make_unique<LimitedServer<httplib::SSLServer>>(
        connections_.get(), tls.cert_file().c_str(), tls.key_file().c_str(),
        tls.client_ca_file().empty() ? nullptr : tls.client_ca_file().c_str());
    if (!server->is_valid()) {
      return absl::InvalidArgumentError(
          "tls: the REST port cannot use the certificate or key");
    }
    *raise_backlog = [s = server.get()] { return s->RaiseListenBacklog(); };
    server_ = std::move(server);
  } else {
    auto server =
        std::make_unique<LimitedServer<httplib::Server>>(connections_.get());
    *raise_backlog = [s = server.get()] { return s->RaiseListenBacklog(); };
    server_ = std::move(server);
  }
  // What the Keep-Alive header advertises; the connections layer applies it.
  server_->set_keep_alive_timeout(std::max<time_t>(
      1, static_cast<time_t>(absl::ToInt64Seconds(limits.idle_timeout))));
  server_->set_keep_alive_max_count(kMaxRequestsPerConnection);
  const size_t max_body = config.max_request_bytes();
  // Content-Length over the limit never gets here (the connections layer
  // answers 413); the rest is ReadBody's.
  server_->set_payload_max_length(max_body);
  server_->set_error_handler([max_body](const httplib::Request&,
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
  return absl::OkStatus();
}

absl::Status RestGateway::AddRoutes(const config::v1::HostConfig& config,
                                    const HostedInstance* plugin) {
  httplib::Server& server = *server_;
  // The probes first: cpp-httplib tries handlers in the order added.
  if (absl::Status s = AddHealthRoutes(server, *routes_, plugin); !s.ok()) {
    return s;
  }
  // The web UI next, before the catch-all that forwards to the plugin.
  AddUiRoutes(server);
  const auto forward =
      [table = routes_.get(), transcoder = transcoder_.get(), plugin,
       max_timeout = absl::Milliseconds(config.max_call_timeout_ms())](
          const httplib::Request& req, const std::string& body,
          const std::string& content_type, httplib::Response& res) {
        Forward(*table, *transcoder, *plugin, max_timeout, req, body,
                content_type, res);
      };
  // Verbs with a body read it through a content reader (ReadBody).
  // Only a route that takes its body raw (google.api.HttpBody) takes a
  // multipart one: PyPI's upload API.
  const auto takes_multipart = [table = routes_.get()](
                                   const httplib::Request& req) {
    absl::StatusOr<RouteMatch> match =
        table->Match(req.method, req.target.substr(0, req.target.find('?')));
    return match.ok() && match->route->raw_request;
  };
  const auto with_body =
      [forward, takes_multipart, max_body = config.max_request_bytes()](
          const httplib::Request& req, httplib::Response& res,
          const httplib::ContentReader& reader) {
        std::string content_type;
        if (std::optional<std::string> body =
                ReadBody(req, res, reader, max_body,
                         req.is_multipart_form_data() && takes_multipart(req),
                         &content_type)) {
          forward(req, *body, content_type, res);
        }
      };
  const std::string any = ".*";
  server.Get(any,
             [forward](const httplib::Request& req, httplib::Response& res) {
               forward(req, "", "", res);
             });
  server.Post(any, with_body);
  server.Put(any, with_body);
  server.Delete(any, with_body);
  server.Patch(any, with_body);
  return absl::OkStatus();
}

absl::Status RestGateway::Listen(const std::string& rest_listen,
                                 const std::function<bool()>& raise_backlog) {
  httplib::Server& server = *server_;
  std::string host;
  int port = 0;
  if (!SplitHostPort(rest_listen, &host, &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("restListen: '", rest_listen, "' is not HOST:PORT"));
  }
  if (port == 0) {
    port = server.bind_to_any_port(host);
    if (port < 0) port = 0;
  } else if (!server.bind_to_port(host, port)) {
    port = 0;
  }
  if (port == 0) {
    return absl::UnavailableError(
        absl::StrCat("restListen: cannot listen on ", rest_listen));
  }
  if (!raise_backlog()) {
    LogWarning("REST: the listen backlog stays at cpp-httplib's 5");
  }
  address_ = absl::StrCat(
      host.find(':') == std::string::npos ? host : absl::StrCat("[", host, "]"),
      ":", port);
  thread_ = std::thread([&server] { server.listen_after_bind(); });
  // stop() is a no-op until the server runs: wait, so a stop signal that
  // comes at once cannot leave Stop() joining forever.
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::OkStatus();
}

size_t RestGateway::route_count() const { return routes_->routes().size(); }

void RestGateway::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
  if (connections_ != nullptr) connections_->Shutdown();
}

RestGateway::~RestGateway() { Stop(); }

}  // namespace mcpreg::host
