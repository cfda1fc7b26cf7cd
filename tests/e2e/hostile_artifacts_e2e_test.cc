// Artifacts built to cost the registry more than a glance, end to end
// (mcpreg-host, the real plugin, PostgreSQL): decompression bombs registered
// sixteen at once while GetPluginInfo and CheckToolCall must keep
// answering, files too large to hash, and FIFOs that once blocked a worker
// and the host's shutdown for ever. Latencies are printed, not asserted;
// the bounds asserted are liveness bounds (a few seconds).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mcpreg/v1/admin.grpc.pb.h"
#include "mcpreg/v1/registry.grpc.pb.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/hostile_archives.h"
#include "tests/support/registry_server.h"
#include "tests/support/shared_registry_test.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr char kNpmPath[] = "org/project/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz";
constexpr char kNpmReadme[] = "org/project/simple-mcp/1.0.0/README.md";

v1::RegisterCustomServerRequest Request(const std::string& repo,
                                        const std::string& path,
                                        const std::string& readme = "") {
  v1::RegisterCustomServerRequest r;
  r.set_project_key("ai-research");
  r.mutable_repo_artifact_info()->set_repo_key(repo);
  r.mutable_repo_artifact_info()->set_repo_path(path);
  r.mutable_repo_artifact_info()->set_readme_path(readme);
  r.mutable_mcp_server_info()->set_description("hostile");
  r.mutable_mcp_server_info()->set_version("1.0.0");
  return r;
}

struct Outcome {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;
  absl::Duration took;
};

Outcome Register(const std::shared_ptr<grpc::Channel>& channel,
                 const std::string& token,
                 const v1::RegisterCustomServerRequest& request,
                 absl::Duration timeout = absl::Seconds(20)) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ctx.AddMetadata("authorization", "Bearer " + token);
  v1::RegisterCustomServerResponse out;
  const absl::Time start = absl::Now();
  grpc::Status s = v1::McpRegistry::NewStub(channel)->RegisterCustomServer(
      &ctx, request, &out);
  return {s.error_code(), s.error_message(), absl::Now() - start};
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Bytes the process `pid` has read through read(2) and the like.
int64_t BytesReadBy(pid_t pid) {
  std::ifstream io(absl::StrCat("/proc/", pid, "/io"));
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "rchar:") return value;
  }
  return -1;
}

class HostileArtifactsE2eTest
    : public SharedRegistryTest<HostileArtifactsE2eTest> {
 protected:
  std::string Storage(const std::string& repo, const std::string& path) {
    return absl::StrCat(server_->home(), "/storage/", repo, "/", path);
  }
};

TEST_F(HostileArtifactsE2eTest,
       SixteenBombsAtOnceAreRefusedWhileTheRegistryKeepsAnswering) {
  const std::string admin = server_->admin_token();
  // A server to check tool calls against.
  ASSERT_EQ(Register(*channel_, admin, Request("ai-npm-local", kNpmPath)).code,
            grpc::StatusCode::OK);

  struct Kind {
    const char* repo;
    const char* name;
    std::string bytes;
    grpc::StatusCode expected;
    const char* says;
  };
  // Without the limits each keeps a worker inflating for many seconds, then
  // registers or runs into its deadline.
  const std::string sdist_bomb =
      TarGzBuilder()
          .Zeros("bomb-1.0.0/zeros.bin", 4 * kGiB)
          .File("bomb-1.0.0/PKG-INFO", "Name: bomb\nVersion: 1.0.0\n")
          .Finish();
  const Kind kinds[] = {
      // ~10 KB for 32 GiB of zeros behind two gzip layers.
      {"ai-npm-local", "double.tgz", Gzip(ZeroBombNpm(32 * kGiB)),
       grpc::StatusCode::FAILED_PRECONDITION, "gzip layers"},
      {"ai-npm-local", "zeros.tgz", ZeroBombNpm(4 * kGiB),
       grpc::StatusCode::RESOURCE_EXHAUSTED, "times its compressed size"},
      {"ai-pypi-local", "bomb-1.0.0.tar.gz", sdist_bomb,
       grpc::StatusCode::RESOURCE_EXHAUSTED, "times its compressed size"},
      {"ai-pypi-local", "double-1.0.0.tar.gz",
       Gzip(TarGzBuilder()
                .Zeros("bomb-1.0.0/zeros.bin", 32 * kGiB)
                .File("bomb-1.0.0/PKG-INFO", "Name: bomb\nVersion: 1.0.0\n")
                .Finish()),
       grpc::StatusCode::FAILED_PRECONDITION, "gzip layers"},
  };
  struct Bomb {
    const Kind* kind;
    std::string path;
    Outcome outcome;
  };
  std::vector<Bomb> bombs;
  for (const Kind& kind : kinds) {
    std::cout << kind.name << ": " << kind.bytes.size() << " bytes\n";
    const std::string first = absl::StrCat("bombs/0/", kind.name);
    WriteFile(Storage(kind.repo, first), kind.bytes);
    for (int i = 0; i < 4; ++i) {
      const std::string path = absl::StrCat("bombs/", i, "/", kind.name);
      if (i > 0) {
        std::filesystem::create_directories(
            std::filesystem::path(Storage(kind.repo, path)).parent_path());
        std::filesystem::create_hard_link(Storage(kind.repo, first),
                                          Storage(kind.repo, path));
      }
      bombs.push_back({&kind, path, {}});
    }
  }
  ASSERT_EQ(bombs.size(), 16u);

  // Tokens used once each: a check with a token not seen before cannot be
  // answered from the caches on the host's thread, so a worker must answer
  // it — while sixteen workers hold bombs, if the bombs hold them.
  std::vector<std::string> fresh_tokens;
  {
    auto admin_stub = v1::McpRegistryAdmin::NewStub(*channel_);
    const auto admin_call = [&] {
      auto ctx = std::make_unique<grpc::ClientContext>();
      ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      ctx->AddMetadata("authorization", "Bearer " + admin);
      return ctx;
    };
    v1::GrantPermissionRequest grant;
    grant.mutable_grant()->set_principal("prober");
    grant.mutable_grant()->set_permission("READ");
    grant.mutable_grant()->set_resource("ai-npm-local");
    v1::GrantPermissionResponse granted;
    ASSERT_TRUE(
        admin_stub->GrantPermission(admin_call().get(), grant, &granted).ok());
    for (int i = 0; i < 60; ++i) {
      v1::CreateTokenRequest create;
      create.set_principal("prober");
      v1::CreateTokenResponse created;
      ASSERT_TRUE(
          admin_stub->CreateToken(admin_call().get(), create, &created).ok());
      fresh_tokens.push_back(created.token());
    }
  }

  // The probes: the cheapest call (answered on the host's thread), a check
  // the caches answer, and a check a worker must answer.
  auto registry = v1::McpRegistry::NewStub(*channel_);
  const auto check = [&](const std::string& token) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::CheckToolCallRequest request;
    request.set_project_key("ai-research");
    request.set_server("npm:ai-npm-local:simple-mcp");
    request.set_tool("not-allowed");
    v1::CheckToolCallResponse decision;
    const absl::Time start = absl::Now();
    grpc::Status s = registry->CheckToolCall(&ctx, request, &decision);
    EXPECT_TRUE(s.ok()) << "CheckToolCall: " << s.error_message();
    EXPECT_FALSE(decision.allowed());
    return absl::Now() - start;
  };
  size_t next_token = 0;
  struct Latencies {
    absl::Duration plugin_info, cached_check, worker_check;
  };
  const auto probe = [&] {
    Latencies l;
    grpc::ClientContext info_ctx;
    info_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    v1::PluginInfo info;
    const absl::Time start = absl::Now();
    grpc::Status s =
        registry->GetPluginInfo(&info_ctx, v1::GetPluginInfoRequest(), &info);
    l.plugin_info = absl::Now() - start;
    EXPECT_TRUE(s.ok()) << "GetPluginInfo: " << s.error_message();
    l.cached_check = check(admin);
    if (next_token < fresh_tokens.size()) {
      l.worker_check = check(fresh_tokens[next_token++]);
    }
    return l;
  };
  const Latencies idle = probe();

  std::atomic<int> running{static_cast<int>(bombs.size())};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (Bomb& bomb : bombs) {
    threads.emplace_back([&, b = &bomb] {
      b->outcome = Register(*channel_, admin, Request(b->kind->repo, b->path));
      --running;
    });
  }
  Latencies worst;
  int rounds = 0;
  // While the bombs are in flight, and a few rounds after.
  for (int after = 0; after < 5; ++rounds) {
    if (running.load() == 0) ++after;
    const Latencies l = probe();
    worst.plugin_info = std::max(worst.plugin_info, l.plugin_info);
    worst.cached_check = std::max(worst.cached_check, l.cached_check);
    worst.worker_check = std::max(worst.worker_check, l.worker_check);
    absl::SleepFor(absl::Milliseconds(10));
  }
  for (std::thread& t : threads) t.join();
  const absl::Duration all = absl::Now() - start;

  std::cout << "idle: GetPluginInfo " << idle.plugin_info
            << ", CheckToolCall cached " << idle.cached_check
            << ", by a worker " << idle.worker_check << "\n"
            << "with 16 bombs in flight (" << rounds
            << " rounds, at most): GetPluginInfo " << worst.plugin_info
            << ", CheckToolCall cached " << worst.cached_check
            << ", by a worker " << worst.worker_check << " (" << next_token - 1
            << " of them)\n"
            << "all 16 refused within " << all << "\n";
  for (const Bomb& bomb : bombs) {
    std::cout << "  " << bomb.path << ": " << bomb.outcome.code << " in "
              << bomb.outcome.took << "\n";
    EXPECT_EQ(bomb.outcome.code, bomb.kind->expected)
        << bomb.path << ": " << bomb.outcome.message;
    EXPECT_THAT(bomb.outcome.message, HasSubstr("repoArtifactInfo.repoPath"));
    EXPECT_THAT(bomb.outcome.message, HasSubstr(bomb.kind->says));
    EXPECT_LT(bomb.outcome.took, absl::Seconds(10)) << bomb.path;
  }
  EXPECT_GE(next_token, 2u);  // at least one worker check with bombs about
  EXPECT_LT(worst.plugin_info, absl::Seconds(2));
  EXPECT_LT(worst.cached_check, absl::Seconds(2));
  EXPECT_LT(worst.worker_check, absl::Seconds(2));
}

// Neither a huge package nor a huge README is read before its size is
// checked: once they were hashed whole, a full read per request.
TEST_F(HostileArtifactsE2eTest, HugeFilesAreRefusedBeforeTheyAreRead) {
  const std::string admin = server_->admin_token();
  const std::string big = "org/project/huge/1.0.0/huge-1.0.0.tgz";
  const std::string big_readme = "org/project/huge/1.0.0/README.md";
  for (const std::string& path : {big, big_readme}) {
    WriteFile(Storage("ai-npm-local", path), "");
    // Sparse: no disk, but seconds to read.
    ASSERT_EQ(truncate(Storage("ai-npm-local", path).c_str(), 8 * kGiB), 0);
  }
  const int64_t before = BytesReadBy(server_->host().pid());
  ASSERT_GE(before, 0);
  Outcome package =
      Register(*channel_, admin, Request("ai-npm-local", big, kNpmReadme));
  EXPECT_EQ(package.code, grpc::StatusCode::RESOURCE_EXHAUSTED)
      << package.message;
  EXPECT_THAT(package.message, HasSubstr("repoArtifactInfo.repoPath"));
  EXPECT_THAT(package.message, HasSubstr("64 MiB"));
  Outcome readme =
      Register(*channel_, admin, Request("ai-npm-local", kNpmPath, big_readme));
  EXPECT_EQ(readme.code, grpc::StatusCode::RESOURCE_EXHAUSTED)
      << readme.message;
  EXPECT_THAT(readme.message, HasSubstr("repoArtifactInfo.readmePath"));
  EXPECT_THAT(readme.message, HasSubstr("256 KiB"));
  const int64_t read = BytesReadBy(server_->host().pid()) - before;
  std::cout << "the host read " << read << " bytes for both; refused in "
            << package.took << " and " << readme.took << "\n";
  EXPECT_LT(read, int64_t{64} << 20);
}

// A FIFO at a path once blocked a worker in open(2) until something wrote
// to it, past the call's deadline and through the host's shutdown.
TEST(HostileFilesE2eTest, FifosAreRefusedAtOnceAndTheHostStopsCleanly) {
  RegistryServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto channel =
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  const std::string storage = server.home() + "/storage/ai-npm-local/";
  const std::string fifo_package = "org/project/fifo/1.0.0/fifo-1.0.0.tgz";
  const std::string fifo_readme = "org/project/fifo/1.0.0/README.md";
  std::filesystem::create_directories(storage + "org/project/fifo/1.0.0");
  ASSERT_EQ(mkfifo((storage + fifo_package).c_str(), 0644), 0);
  ASSERT_EQ(mkfifo((storage + fifo_readme).c_str(), 0644), 0);
  // Whatever happens below, nothing stays blocked on them after the test.
  struct Unblock {
    std::vector<std::string> fifos;
    ~Unblock() {
      for (const std::string& f : fifos) {
        const int fd = open(f.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) close(fd);
      }
    }
  } unblock{{storage + fifo_package, storage + fifo_readme}};

  const std::string admin = server.admin_token();
  Outcome package = Register(
      channel, admin, Request("ai-npm-local", fifo_package), absl::Seconds(10));
  EXPECT_EQ(package.code, grpc::StatusCode::FAILED_PRECONDITION)
      << package.message;
  EXPECT_THAT(package.message, HasSubstr("repoArtifactInfo.repoPath"));
  EXPECT_THAT(package.message, HasSubstr("FIFO"));
  EXPECT_LT(package.took, absl::Seconds(5));
  Outcome readme =
      Register(channel, admin, Request("ai-npm-local", kNpmPath, fifo_readme),
               absl::Seconds(10));
  EXPECT_EQ(readme.code, grpc::StatusCode::FAILED_PRECONDITION)
      << readme.message;
  EXPECT_THAT(readme.message, HasSubstr("repoArtifactInfo.readmePath"));
  EXPECT_LT(readme.took, absl::Seconds(5));

  // A README replaced by a FIFO after registration: GetServer answers
  // without it rather than wait.
  ASSERT_EQ(
      Register(channel, admin, Request("ai-npm-local", kNpmPath, kNpmReadme))
          .code,
      grpc::StatusCode::OK);
  ASSERT_EQ(unlink((storage + kNpmReadme).c_str()), 0);
  ASSERT_EQ(mkfifo((storage + kNpmReadme).c_str(), 0644), 0);
  unblock.fifos.push_back(storage + kNpmReadme);
  grpc::ClientContext get_ctx;
  get_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  get_ctx.AddMetadata("authorization", "Bearer " + admin);
  v1::GetServerRequest get;
  get.set_project_key("ai-research");
  get.set_name("npm:ai-npm-local:simple-mcp");
  v1::Server got;
  const absl::Time get_start = absl::Now();
  grpc::Status s =
      v1::McpRegistry::NewStub(channel)->GetServer(&get_ctx, get, &got);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_LT(absl::Now() - get_start, absl::Seconds(5));
  if (s.ok()) {
    EXPECT_EQ(got.versions(0).readme(), "");
  }

  const absl::Time stop_start = absl::Now();
  EXPECT_EQ(server.Stop(), 0) << server.host().Stderr();
  std::cout << "refused in " << package.took << " and " << readme.took
            << "; the host stopped in " << absl::Now() - stop_start << "\n";
}

}  // namespace
}  // namespace mcpreg::testing
