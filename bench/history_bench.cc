// mcpreg-history: what a server's history costs its calls. Against a real
// registry (mcpreg-host + libmcpreg.so + a private PostgreSQL) it registers a
// new version, reads the server, checks a tool call and builds a client
// configuration, one call at a time, for a server with few versions and one
// with many, in alternating rounds so that the machine's drift weighs on
// both alike, and prints both sides of each ratio. Target: ≤ 1.2, the
// history must not show.
// Usage: mcpreg-history [--versions 10000] [--small_versions 10]
//                       [--calls 300] [--rounds 5]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <numeric>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "storage/repo/repository_store.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/registry_server.h"

ABSL_FLAG(int, versions, 10000, "versions of the server with a long history");
ABSL_FLAG(int, small_versions, 10, "versions of the server with a short one");
ABSL_FLAG(int, calls, 300, "measured calls per operation and server");
ABSL_FLAG(int, rounds, 5, "rounds the calls are split into, sides alternating");
ABSL_FLAG(bool, durable, true,
          "PostgreSQL with fsync on, as in service (--nodurable: fsync off)");

namespace mcpreg::bench {
namespace {

using testing::RegistryServer;

constexpr char kRepo[] = "ai-npm-local";

struct Side {
  std::string name;  // the npm package, e.g. "history-10"
  int versions = 0;
  int registered = 0;  // measured registrations so far
  std::vector<int64_t> micros[4];
};

constexpr const char* kOperations[] = {"RegisterCustomServer (new version)",
                                       "GetServer (first page)",
                                       "CheckToolCall", "GetClientConfig"};

std::string ArtifactPath(const std::string& name, const std::string& version) {
  return absl::StrCat("history/", name, "/", version, "/", name, "-", version,
                      ".tgz");
}

v1::RegisterCustomServerRequest RegisterRequest(const std::string& name,
                                                const std::string& version) {
  v1::RegisterCustomServerRequest r;
  r.set_project_key("ai-research");
  r.mutable_repo_artifact_info()->set_repo_key(kRepo);
  r.mutable_repo_artifact_info()->set_repo_path(ArtifactPath(name, version));
  r.mutable_mcp_server_info()->set_description("history benchmark");
  r.mutable_mcp_server_info()->set_version(version);
  return r;
}

class Client {
 public:
  Client(const std::string& address, std::string token)
      : stub_(v1::McpRegistry::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))),
        token_(std::move(token)) {}

  grpc::Status Call(int operation, Side& side) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    ctx.AddMetadata("authorization", "Bearer " + token_);
    ctx.AddMetadata("jfrog-project-key", "ai-research");
    switch (operation) {
      case 0: {
        v1::RegisterCustomServerResponse out;
        const std::string version = absl::StrCat("2.0.", ++side.registered);
        return stub_->RegisterCustomServer(
            &ctx, RegisterRequest(side.name, version), &out);
      }
      case 1: {
        v1::GetServerRequest r;
        r.set_name(side.name);
        v1::Server out;
        return stub_->GetServer(&ctx, r, &out);
      }
      case 2: {
        v1::CheckToolCallRequest r;
        r.set_server(side.name);
        r.set_tool("echo");
        v1::CheckToolCallResponse out;
        return stub_->CheckToolCall(&ctx, r, &out);
      }
      default: {
        v1::GetClientConfigRequest r;
        r.set_server(side.name);
        r.set_client("cursor");
        v1::ClientConfig out;
        return stub_->GetClientConfig(&ctx, r, &out);
      }
    }
  }

  grpc::Status RegisterFirst(const std::string& name) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token_);
    v1::RegisterCustomServerResponse out;
    return stub_->RegisterCustomServer(&ctx, RegisterRequest(name, "1.0.0"),
                                       &out);
  }

  grpc::Status AllowAll(const std::string& name) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token_);
    ctx.AddMetadata("jfrog-project-key", "ai-research");
    v1::SetToolPolicyRequest r;
    r.mutable_policy()->set_server(name);
    r.mutable_policy()->set_mode(v1::ToolPolicy::ALLOW_ALL);
    v1::ToolPolicy out;
    return stub_->SetToolPolicy(&ctx, r, &out);
  }

 private:
  std::unique_ptr<v1::McpRegistry::Stub> stub_;
  std::string token_;
};

// The server's first version through the API, the rest of its history
// written straight into the database (only the measured calls go through
// the registry), and the artifacts its measured registrations will name.
bool Prepare(RegistryServer& server, Client& client,
             storage::RepositoryStore& storage, Side& side, int calls) {
  for (int i = 0; i <= calls; ++i) {
    const std::string version = i == 0 ? "1.0.0" : absl::StrCat("2.0.", i);
    if (!storage
             .WriteArtifact(
                 kRepo, ArtifactPath(side.name, version),
                 storage::BuildNpmTarball(side.name, version, "benchmark"))
             .ok()) {
      return false;
    }
  }
  if (grpc::Status s = client.RegisterFirst(side.name); !s.ok()) {
    std::cerr << "register " << side.name << ": " << s.error_message() << "\n";
    return false;
  }
  const std::string seed = absl::StrCat(
      "INSERT INTO server_versions (server_id, version, repo_key, repo_path, "
      "artifact_sha256, artifact_size, description, created_by, seq) "
      "SELECT s.id, '0.1.' || g, s.repo_key, 'seeded/' || g, repeat('0', 64), "
      "1, 'seeded', 'bench', g + 1 FROM servers s, generate_series(1, ",
      side.versions - 1, ") g WHERE s.name = '", side.name,
      "'; UPDATE servers SET version_count = ", side.versions,
      " WHERE name = '", side.name, "'; ANALYZE server_versions;");
  if (server.cluster().Psql("registry", seed) != 0) return false;
  return client.AllowAll(side.name).ok();
}

double Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * (v.size() - 1))] / 1000.0;
}

double Mean(const std::vector<int64_t>& v) {
  if (v.empty()) return 0;
  return std::accumulate(v.begin(), v.end(), 0.0) / v.size() / 1000.0;
}

int Main() {
  const int calls = absl::GetFlag(FLAGS_calls);
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  RegistryServer server(/*rest=*/false, /*max_connections=*/0,
                        absl::GetFlag(FLAGS_durable));
  if (!server.ok()) {
    std::cerr << server.error() << "\n";
    return 1;
  }
  auto storage =
      storage::NewFilesystemRepositoryStore(server.home() + "/storage");
  if (!storage.ok()) {
    std::cerr << storage.status() << "\n";
    return 1;
  }
  Client client(server.address(), server.admin_token());
  std::vector<Side> sides(2);
  sides[0].versions = absl::GetFlag(FLAGS_small_versions);
  sides[1].versions = absl::GetFlag(FLAGS_versions);
  for (Side& side : sides) {
    side.name = absl::StrCat("history-", side.versions);
    if (side.versions < 1 || !Prepare(server, client, **storage, side, calls)) {
      std::cerr << "could not prepare " << side.name << "\n";
      return 1;
    }
  }
  int64_t errors = 0;
  std::string first_error;
  for (int round = 0; round < rounds; ++round) {
    for (int operation = 0; operation < 4; ++operation) {
      for (int turn = 0; turn < 2; ++turn) {
        Side& side = sides[(round + turn) % 2];  // who goes first alternates
        const int n = calls / rounds + (round < calls % rounds ? 1 : 0);
        for (int i = 0; i < n; ++i) {
          const absl::Time start = absl::Now();
          grpc::Status s = client.Call(operation, side);
          side.micros[operation].push_back(
              absl::ToInt64Microseconds(absl::Now() - start));
          if (!s.ok() && errors++ == 0) first_error = s.error_message();
        }
      }
    }
  }
  std::cout << absl::StrFormat(
      "History: %d vs %d versions, %d calls each, one in flight, fsync %s\n",
      sides[0].versions, sides[1].versions, calls,
      absl::GetFlag(FLAGS_durable) ? "on" : "off");
  std::cout << absl::StrFormat("%-36s %18s %18s %14s\n", "operation",
                               absl::StrCat(sides[0].versions, " versions"),
                               absl::StrCat(sides[1].versions, " versions"),
                               "ratio (<=1.2)");
  for (int operation = 0; operation < 4; ++operation) {
    const auto& a = sides[0].micros[operation];
    const auto& b = sides[1].micros[operation];
    std::cout << absl::StrFormat(
        "%-36s p50 %6.2f ms      p50 %6.2f ms      %5.2f\n"
        "%-36s mean %5.2f ms      mean %5.2f ms     %5.2f\n",
        kOperations[operation], Percentile(a, 0.5), Percentile(b, 0.5),
        Percentile(b, 0.5) / std::max(Percentile(a, 0.5), 1e-9), "", Mean(a),
        Mean(b), Mean(b) / std::max(Mean(a), 1e-9));
  }
  if (errors > 0) {
    std::cout << "errors: " << errors << " (first: " << first_error << ")\n";
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace mcpreg::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return mcpreg::bench::Main();
}
