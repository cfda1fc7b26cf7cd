// The CLI, the guard included, over TLS (issue 20, item 13): the real
// binary against a real mcpreg-host serving a certificate from a CA the test
// makes with openssl. The CA comes from a flag or the environment, a client
// certificate when the host asks for one, and the token from the
// environment or a file only its owner may read; a CA file that cannot be
// read stops the command before anything is sent, and a token about to
// cross a plain-text channel to another machine, or typed on the command
// line, is warned about.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/support/registry_server.h"
#include "tests/support/shell.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A CA, a certificate for 127.0.0.1/localhost it signed, and a client
// certificate it signed, in a fresh folder.
struct TestPki {
  std::string dir, ca, server_cert, server_key, client_cert, client_key;

  static std::unique_ptr<TestPki> Make() {
    auto pki = std::make_unique<TestPki>();
    char tmpl[] = "/tmp/mcpreg-pki-XXXXXX";
    pki->dir = mkdtemp(tmpl);
    const std::string d = pki->dir;
    pki->ca = d + "/ca.crt";
    pki->server_cert = d + "/server.crt";
    pki->server_key = d + "/server.key";
    pki->client_cert = d + "/client.crt";
    pki->client_key = d + "/client.key";
    const ShellResult made = RunShell(R"(set -e
      key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      openssl req -x509 $key -days 2 -subj /CN=mcpreg-test-ca \
        -keyout ca.key -out ca.crt
      openssl req $key -subj /CN=localhost -keyout server.key -out server.csr
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
        -CAcreateserial -days 2 -extfile server.ext -out server.crt
      openssl req $key -subj /CN=ci-bot -keyout client.key -out client.csr
      openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key \
        -CAcreateserial -days 2 -out client.crt
    )",
                                      d);
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return pki;
  }
  ~TestPki() { RunShell("rm -rf " + ShellQuote(dir)); }
};

class CliTlsE2eTest : public ::testing::Test {
 protected:
  // A registry serving TLS; requiring client certificates when asked.
  void Start(bool require_client_certificates) {
    pki_ = TestPki::Make();
    std::string tls =
        absl::StrCat(R"("tls": {"certFile": ")", pki_->server_cert,
                     R"(", "keyFile": ")", pki_->server_key, R"(")");
    if (require_client_certificates) {
      absl::StrAppend(&tls, R"(, "clientCaFile": ")", pki_->ca, R"(")");
    }
    server_ =
        std::make_unique<RegistryServer>(/*rest=*/false, 0, false, tls + "}");
    ASSERT_TRUE(server_->ok()) << server_->error();
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(), 0) << server_->host().Stderr();
    }
  }
  // The CLI with only `env` of mcpreg's settings in its environment.
  ShellResult Cli(const std::string& args,
                  std::map<std::string, std::string> env = {},
                  const std::string& stdin_text = "") {
    std::string script = absl::StrCat(
        "unset MCPREG_ADDR MCPREG_TOKEN MCPREG_TOKEN_FILE MCPREG_TLS "
        "MCPREG_CA_FILE MCPREG_CERT_FILE MCPREG_KEY_FILE MCPREG_PROJECT\n");
    for (const auto& [name, value] : env) {
      absl::StrAppend(&script, "export ", name, "=", ShellQuote(value), "\n");
    }
    absl::StrAppend(&script, "printf %s ", ShellQuote(stdin_text), " | ",
                    MCPREG_TEST_CLI_BINARY, " ", args);
    return RunShell(script, MCPREG_TEST_SOURCE_DIR);
  }
  std::string TokenFile(mode_t mode) {
    const std::string path = pki_->dir + "/token";
    std::ofstream(path) << server_->admin_token() << "\n";
    chmod(path.c_str(), mode);
    return path;
  }

  std::unique_ptr<TestPki> pki_;
  std::unique_ptr<RegistryServer> server_;
};

TEST_F(CliTlsE2eTest, CommandsAndTheGuardTrustTheCaTheyAreGiven) {
  Start(/*require_client_certificates=*/false);
  const std::string addr = server_->address();
  const std::string token_file = TokenFile(0600);

  ShellResult r =
      Cli(absl::StrCat("--addr ", addr, " --ca-file ", pki_->ca,
                       " --token-file ", token_file, " admin repo list"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ai-npm-local"));
  EXPECT_THAT(r.err, Not(HasSubstr("warning")));

  // The same from the environment, as an IDE's entry passes it.
  const std::map<std::string, std::string> env = {
      {"MCPREG_ADDR", addr},
      {"MCPREG_CA_FILE", pki_->ca},
      {"MCPREG_TOKEN", server_->admin_token()},
      {"MCPREG_PROJECT", "ai-research"}};
  r = Cli("register --json examples/register-npm.json", env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cli("policy set --server simple-mcp --mode allow-list --tool echo", env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The guard fetches the package and checks the call over the same TLS.
  r = Cli("guard --server simple-mcp", env,
          R"({"jsonrpc":"2.0","id":1,"method":"tools/call",)"
          R"("params":{"name":"echo","arguments":{"text":"over tls"}}})"
          "\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("over tls"));

  // Not trusted: the system's roots do not know the test's CA, and a
  // plain-text client cannot talk to a TLS port.
  r = Cli(absl::StrCat("--addr ", addr, " --tls --timeout 3 admin repo list"),
          {{"MCPREG_TOKEN", server_->admin_token()}});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  r = Cli(absl::StrCat("--addr ", addr, " --timeout 3 admin repo list"),
          {{"MCPREG_TOKEN", server_->admin_token()}});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("plain text")));  // loopback: no warning
}

TEST_F(CliTlsE2eTest, BadTlsFilesAndExposedTokensAreCaughtBeforeSending) {
  Start(/*require_client_certificates=*/false);
  const std::string addr = server_->address();
  const std::string token = server_->admin_token();

  // A CA file that cannot be read never falls back to the system's roots.
  ShellResult r =
      Cli(absl::StrCat("--addr ", addr, " --ca-file /nonexistent/ca.pem info"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/ca.pem"));

  // A token file others may read is refused, naming the fix.
  r = Cli(absl::StrCat("--addr ", addr, " --ca-file ", pki_->ca,
                       " --token-file ", TokenFile(0644), " admin repo list"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("chmod 600"));

  // --token works, but is visible in /proc: warned.
  r = Cli(absl::StrCat("--addr ", addr, " --ca-file ", pki_->ca, " --token ",
                       token, " admin repo list"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("visible to other users"));
  EXPECT_THAT(r.err, Not(HasSubstr(token)));

  // A token headed in plain text to an address that is not loopback by name
  // (0.0.0.0 still reaches this machine): warned, and the token not shown.
  const std::string port = addr.substr(addr.rfind(':') + 1);
  r = Cli(absl::StrCat("--addr 0.0.0.0:", port, " --timeout 3 info"),
          {{"MCPREG_TOKEN", token}});
  EXPECT_THAT(r.err, HasSubstr("sending the access token in plain text"));
  EXPECT_THAT(r.err, Not(HasSubstr(token)));
}

TEST_F(CliTlsE2eTest, AClientCertificateWhenTheHostAsksForOne) {
  Start(/*require_client_certificates=*/true);
  const std::map<std::string, std::string> env = {
      {"MCPREG_ADDR", server_->address()},
      {"MCPREG_CA_FILE", pki_->ca},
      {"MCPREG_TOKEN", server_->admin_token()}};
  ShellResult r = Cli("--timeout 3 admin repo list", env);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  r = Cli(absl::StrCat("--cert-file ", pki_->client_cert, " --key-file ",
                       pki_->client_key, " admin repo list"),
          env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ai-npm-local"));
  // From the environment too.
  std::map<std::string, std::string> with_cert = env;
  with_cert["MCPREG_CERT_FILE"] = pki_->client_cert;
  with_cert["MCPREG_KEY_FILE"] = pki_->client_key;
  r = Cli("admin repo list", with_cert);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Half a key pair is a usage error.
  r = Cli(absl::StrCat("--cert-file ", pki_->client_cert, " info"), env);
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace mcpreg::testing
