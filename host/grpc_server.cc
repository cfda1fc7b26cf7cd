#include "host/grpc_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace mcpreg::host {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view key) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("tls.", key, ": cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const config::v1::HostConfig& config) {
  if (!config.has_tls()) return grpc::InsecureServerCredentials();
  const auto& tls = config.tls();
  if (tls.cert_file().empty() || tls.key_file().empty()) {
    return absl::InvalidArgumentError(
        "tls: certFile and keyFile are both required when tls is set");
  }
  auto cert = ReadPem(tls.cert_file(), "certFile");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(tls.key_file(), "keyFile");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!tls.client_ca_file().empty()) {
    auto ca = ReadPem(tls.client_ca_file(), "clientCaFile");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

// "127.0.0.1:0" + 5311 -> "127.0.0.1:5311"; "[::1]:0" -> "[::1]:5311".
std::string WithPort(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  return absl::StrCat(listen.substr(0, colon), ":", port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const config::v1::HostConfig& config, const HostedInstance* plugin) {
  auto credentials = Credentials(config);
  if (!credentials.ok()) return credentials.status();

  std::unique_ptr<GrpcServer> self(new GrpcServer());
  ForwardingOptions options;
  options.max_call_timeout = absl::Milliseconds(config.max_call_timeout_ms());
  self->service_ = std::make_unique<ForwardingService>(plugin, options);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config.grpc_listen(), *credentials, &port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(config.max_request_bytes()));
  builder.RegisterCallbackGenericService(self->service_.get());
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.grpc_listen(),
                     " (address in use, or not an address of this machine?)"));
  }
  self->address_ = WithPort(config.grpc_listen(), port);
  return self;
}

void GrpcServer::Shutdown(absl::Duration drain) {
  server_->Shutdown(absl::ToChronoTime(absl::Now() + drain));
  server_->Wait();
}

}  // namespace mcpreg::host
