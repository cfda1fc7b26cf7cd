// The real mcpreg-host with the real libmcpreg.so, over a real gRPC channel
// with the generated client stubs: GetPluginInfo, health checks, and the
// errors a confused client gets. Plain text and TLS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "mcpreg/plugin_abi.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "tests/support/host_process.h"
#include "tests/support/raw_grpc.h"

namespace mcpreg::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

class HostPluginTest : public ::testing::Test {
 protected:
  void Start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--plugin", PluginPath(), "--grpc_listen",
                                     "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    host_ = std::make_unique<HostProcess>(HostBinary(), args);
    auto address = host_->WaitForAddress(absl::Seconds(15));
    ASSERT_TRUE(address.has_value()) << host_->Stderr();
    address_ = *address;
  }
  void TearDown() override {
    if (!host_) return;
    host_->Signal(SIGTERM);
    ExitResult r = host_->Wait(absl::Seconds(20));
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 0) << host_->Stderr();
  }
  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
    return ctx;
  }

  std::unique_ptr<HostProcess> host_;
  std::string address_;
};

TEST_F(HostPluginTest, GetPluginInfoOverGrpc) {
  Start();
  auto stub = v1::McpRegistry::NewStub(InsecureChannel(address_));
  v1::PluginInfo info;
  grpc::Status s =
      stub->GetPluginInfo(Ctx().get(), v1::GetPluginInfoRequest(), &info);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.name(), "mcpreg");
  EXPECT_FALSE(info.version().empty());
  EXPECT_EQ(info.abi_major(), static_cast<uint32_t>(MCPREG_ABI_MAJOR));
  EXPECT_EQ(info.abi_minor(), static_cast<uint32_t>(MCPREG_ABI_MINOR));
  EXPECT_FALSE(info.compiler().empty());
  EXPECT_THAT(info.methods(), Contains("/mcpreg.v1.McpRegistry/GetPluginInfo"));
  EXPECT_THAT(info.methods(), Contains("/grpc.health.v1.Health/Check"));
  EXPECT_THAT(host_->Stderr(), HasSubstr("plugin ABI 1.0"));
}

TEST_F(HostPluginTest, HealthCheckServingAndUnknownService) {
  Start();
  auto stub = grpc::health::v1::Health::NewStub(InsecureChannel(address_));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(stub->Check(Ctx().get(), request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  request.set_service("mcpreg.v1.McpRegistry");
  ASSERT_TRUE(stub->Check(Ctx().get(), request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  request.set_service("no.such.Service");
  grpc::Status s = stub->Check(Ctx().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("no.such.Service"));
}

TEST_F(HostPluginTest, StreamingWatchIsUnimplemented) {
  Start();
  RawResult r = RawUnaryCall(InsecureChannel(address_),
                             "/grpc.health.v1.Health/Watch", "");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(HostPluginTest, GarbageRequestIsInvalidArgumentAndHarmless) {
  Start();
  auto channel = InsecureChannel(address_);
  RawResult r = RawUnaryCall(channel, "/grpc.health.v1.Health/Check",
                             std::string("\xff\xff\xff\xff\xff", 5));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  RawResult ok = RawUnaryCall(channel, "/grpc.health.v1.Health/Check", "");
  EXPECT_TRUE(ok.status.ok());
}

TEST_F(HostPluginTest, OversizedRequestIsRefusedByTheHost) {
  Start({"--config", WriteTempFile(".json", R"({"maxRequestBytes": 1024})")});
  RawResult r = RawUnaryCall(InsecureChannel(address_),
                             "/mcpreg.v1.McpRegistry/GetPluginInfo",
                             std::string(4096, 'x'));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(HostPluginTest, BadConfigStopsTheHostWithTheKeyNamed) {
  HostProcess host(HostBinary(),
                   {"--plugin", PluginPath(), "--grpc_listen", "127.0.0.1:0",
                    "--plugin_config", R"({"workerThreads": "many"})"});
  EXPECT_EQ(host.WaitForAddress(absl::Seconds(10)), std::nullopt);
  EXPECT_EQ(host.Wait(absl::Seconds(10)).exit_code, 1);
  // The JSON parser names the field by its proto name.
  EXPECT_THAT(host.Stderr(), HasSubstr("worker_threads"));
  EXPECT_THAT(host.Stderr(), HasSubstr("plugin config"));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(HostPluginTest, ServesOverTls) {
  const std::string dir = WriteTempFile(".d", "");
  const std::string cert = dir + ".crt", key = dir + ".key";
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl is needed for this test";
  Start({"--config",
         WriteTempFile(".json", R"({"tls": {"certFile": ")" + cert +
                                    R"(", "keyFile": ")" + key + R"("}})"),
         "--rest_listen", "127.0.0.1:0"});
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(cert);
  auto channel = grpc::CreateChannel(address_, grpc::SslCredentials(options));
  auto stub = v1::McpRegistry::NewStub(channel);
  v1::PluginInfo info;
  grpc::Status s =
      stub->GetPluginInfo(Ctx().get(), v1::GetPluginInfoRequest(), &info);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.name(), "mcpreg");

  // A plain-text client cannot talk to the TLS port.
  RawResult plain = RawUnaryCall(InsecureChannel(address_),
                                 "/mcpreg.v1.McpRegistry/GetPluginInfo", "",
                                 absl::Seconds(2));
  EXPECT_FALSE(plain.status.ok());

  // The REST port is TLS too, with the same certificate.
  auto rest =
      host_->WaitForLine("mcpreg-host: rest listening on ", absl::Seconds(10));
  ASSERT_TRUE(rest.has_value()) << host_->Stderr();
  const std::string out = dir + ".json";
  const std::string port = rest->substr(rest->rfind(':') + 1);
  ASSERT_EQ(
      std::system(("curl -sS --cacert " + cert + " -o " + out +
                   " https://localhost:" + port + "/api/v1/mcp-registry/info")
                      .c_str()),
      0);
  EXPECT_THAT(ReadFile(out), HasSubstr("\"name\":\"mcpreg\""));
  EXPECT_NE(std::system(("curl -sS -o /dev/null http://127.0.0.1:" + port +
                         "/api/v1/mcp-registry/info 2>/dev/null")
                            .c_str()),
            0);
}

}  // namespace
}  // namespace mcpreg::testing
