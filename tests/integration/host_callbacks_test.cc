// A platform that brings its own access service and filestore: the real
// libmcpreg.so, loaded through the ABI with the host's authorize,
// get_repository, stat_artifact and read_artifact slots filled, registers a
// package it reads only through those callbacks. Requests are built from the
// plugin's own descriptors, so this binary links none of its protos.
#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "mcpreg/plugin_abi.h"
#include "storage/repo/sample_packages.h"
#include "storage/repo/sha256.h"
#include "tests/support/pg_cluster.h"

namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kRegister[] = "/mcpreg.v1.McpRegistry/RegisterCustomServer";
constexpr char kSdistPath[] = "pkgs/mcp_server-1.0.0.tar.gz";

// The platform behind the callbacks: users, repositories, files.
struct Platform {
  std::mutex mu;
  std::map<std::string, std::string> files;  // "repo/path" -> bytes
  std::vector<std::string> asked;            // "READ team-pypi", ...
  std::vector<std::string> paths_seen;
  bool access_service_down = false;
  // The digest StatArtifact reports; "" = unknown (the plugin hashes).
  std::string reported_sha256;
  int whole_reads = 0;  // ReadArtifact calls from the start of a file
  uint64_t bytes_read = 0;
  // Files of zeros of the given size, never held in memory.
  std::map<std::string, uint64_t> zero_files;
};

std::string Sha256Of(const std::string& bytes) {
  mcpreg::storage::Sha256 sha;
  sha.Update(bytes.data(), bytes.size());
  return sha.HexDigest();
}

std::string Str(mcpreg_str s) { return std::string(s.data, s.size); }

void Log(void*, int32_t, mcpreg_str) {}

int32_t Authorize(void* ctx, const mcpreg_authz_request* request,
                  mcpreg_authz_result* result) {
  auto* p = static_cast<Platform*>(ctx);
  std::lock_guard<std::mutex> lock(p->mu);
  if (p->access_service_down) return MCPREG_STATUS_UNAVAILABLE;
  std::string auth;
  for (size_t i = 0; i < request->metadata_count; ++i) {
    if (Str(request->metadata[i].key) == "authorization") {
      auth.assign(
          reinterpret_cast<const char*>(request->metadata[i].value.data),
          request->metadata[i].value.size);
    }
  }
  const std::string resource = Str(request->resource);
  p->asked.push_back(absl::StrCat(request->permission, " ", resource));
  if (auth != "Bearer platform-token-alice") {
    result->decision = MCPREG_AUTHZ_UNAUTHENTICATED;
    return MCPREG_STATUS_OK;
  }
  snprintf(result->principal, sizeof(result->principal), "alice@platform");
  const bool allowed =
      request->permission == MCPREG_PERMISSION_IDENTIFY ||
      (request->permission == MCPREG_PERMISSION_ALLOW &&
       resource == "ai-research") ||
      (request->permission == MCPREG_PERMISSION_READ &&
       (resource == "team-pypi" || resource == "docker-local"));
  result->decision = allowed ? MCPREG_AUTHZ_ALLOW : MCPREG_AUTHZ_DENY;
  return MCPREG_STATUS_OK;
}

int32_t GetRepository(void*, mcpreg_str key, mcpreg_repository_info* info) {
  const std::string k = Str(key);
  if (k == "team-pypi") {
    snprintf(info->package_type, sizeof(info->package_type), "pypi");
  } else if (k == "docker-local") {
    snprintf(info->package_type, sizeof(info->package_type), "docker");
  } else {
    return MCPREG_STATUS_NOT_FOUND;
  }
  snprintf(info->repo_class, sizeof(info->repo_class), "local");
  snprintf(info->project_key, sizeof(info->project_key), "ai-research");
  return MCPREG_STATUS_OK;
}

int32_t StatArtifact(void* ctx, mcpreg_str repo, mcpreg_str path,
                     mcpreg_artifact_stat* stat) {
  auto* p = static_cast<Platform*>(ctx);
  std::lock_guard<std::mutex> lock(p->mu);
  p->paths_seen.push_back(Str(path));
  if (auto zeros = p->zero_files.find(Str(repo) + "/" + Str(path));
      zeros != p->zero_files.end()) {
    stat->is_regular_file = 1;
    stat->size_bytes = zeros->second;
    return MCPREG_STATUS_OK;
  }
  auto it = p->files.find(Str(repo) + "/" + Str(path));
  if (it == p->files.end()) return MCPREG_STATUS_NOT_FOUND;
  stat->is_regular_file = 1;
  stat->size_bytes = it->second.size();
  snprintf(stat->sha256_hex, sizeof(stat->sha256_hex), "%s",
           p->reported_sha256.c_str());
  return MCPREG_STATUS_OK;
}

int32_t ReadArtifact(void* ctx, mcpreg_str repo, mcpreg_str path,
                     uint64_t offset, uint8_t* buffer, size_t capacity,
                     size_t* bytes_read) {
  auto* p = static_cast<Platform*>(ctx);
  std::lock_guard<std::mutex> lock(p->mu);
  if (offset == 0) ++p->whole_reads;
  if (auto zeros = p->zero_files.find(Str(repo) + "/" + Str(path));
      zeros != p->zero_files.end()) {
    const uint64_t n =
        offset >= zeros->second
            ? 0
            : std::min<uint64_t>(capacity, zeros->second - offset);
    memset(buffer, 0, n);
    *bytes_read = n;
    p->bytes_read += n;
    return MCPREG_STATUS_OK;
  }
  auto it = p->files.find(Str(repo) + "/" + Str(path));
  if (it == p->files.end()) return MCPREG_STATUS_NOT_FOUND;
  const std::string& data = it->second;
  const size_t n =
      offset >= data.size() ? 0 : std::min(capacity, data.size() - offset);
  memcpy(buffer, data.data() + offset, n);
  *bytes_read = n;
  p->bytes_read += n;
  return MCPREG_STATUS_OK;
}

struct Completion {
  absl::Notification done;
  int32_t code = -1;
  std::string message;
  std::string response;
};

void OnComplete(void* ctx, const mcpreg_call_result* r) {
  auto* c = static_cast<Completion*>(ctx);
  c->code = r->status_code;
  c->message.assign(r->status_message.data, r->status_message.size);
  c->response.assign(reinterpret_cast<const char*>(r->response.data),
                     r->response.size);
  c->done.Notify();
}

mcpreg::testing::PgCluster* cluster = nullptr;

// One cluster for the binary, stopped after the last test.
class ClusterEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { cluster = new mcpreg::testing::PgCluster(); }
  void TearDown() override {
    delete cluster;
    cluster = nullptr;
  }
};
const auto* const kEnv =
    ::testing::AddGlobalTestEnvironment(new ClusterEnvironment);

class HostCallbacksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    db_ = absl::StrCat("cb", n++);
    conninfo_ = cluster->CreateDatabase(db_);
    platform_.files[std::string("team-pypi/") + kSdistPath] =
        mcpreg::storage::BuildSdist("mcp-server", "1.0.0", "From the platform");
    handle_ = dlopen(MCPREG_TEST_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    api_ = reinterpret_cast<mcpreg_plugin_entry_fn>(
               dlsym(handle_, MCPREG_PLUGIN_ENTRY_SYMBOL))()
               ->api;
    host_.struct_size = sizeof(host_);
    host_.abi_major = MCPREG_ABI_MAJOR;
    host_.abi_minor = MCPREG_ABI_MINOR;
    host_.host_ctx_host_ptr = &platform_;
    host_.log = &Log;
    host_.authorize = &Authorize;
    host_.get_repository = &GetRepository;
    host_.stat_artifact = &StatArtifact;
    host_.read_artifact = &ReadArtifact;
    // No storageRoot and no tokens: the platform supplies both.
    const std::string config =
        absl::StrCat(R"({"database": {"conninfo": ")", conninfo_, R"("}})");
    char* error = nullptr;
    ASSERT_EQ(api_->create(&host_, {config.data(), config.size()}, &instance_,
                           &error),
              MCPREG_STATUS_OK)
        << (error ? error : "");
    mcpreg_description d{};
    d.struct_size = sizeof(d);
    ASSERT_EQ(api_->describe(instance_, &d), MCPREG_STATUS_OK);
    google::protobuf::FileDescriptorSet set;
    ASSERT_TRUE(
        set.ParseFromArray(d.file_descriptor_set.data,
                           static_cast<int>(d.file_descriptor_set.size)));
    for (const auto& f : set.file()) ASSERT_NE(pool_.BuildFile(f), nullptr);
  }
  void TearDown() override {
    if (instance_ != nullptr) api_->destroy(instance_);
  }

  // Calls RegisterCustomServer with `json`; returns the response as JSON.
  std::string Register(const std::string& json, const std::string& token,
                       Completion* c) {
    google::protobuf::DynamicMessageFactory factory(&pool_);
    const auto* type =
        pool_.FindMessageTypeByName("mcpreg.v1.RegisterCustomServerRequest");
    std::unique_ptr<google::protobuf::Message> request(
        factory.GetPrototype(type)->New());
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(json, request.get()).ok());
    const std::string bytes = request->SerializeAsString();
    const std::string key = "authorization";
    mcpreg_metadata_entry auth{
        {key.data(), key.size()},
        {reinterpret_cast<const uint8_t*>(token.data()), token.size()}};
    mcpreg_call_info info{};
    info.struct_size = sizeof(info);
    info.method = {kRegister, strlen(kRegister)};
    info.metadata = &auth;
    info.metadata_count = token.empty() ? 0 : 1;
    EXPECT_EQ(api_->call(instance_, &info,
                         {reinterpret_cast<const uint8_t*>(bytes.data()),
                          bytes.size()},
                         &OnComplete, c),
              MCPREG_STATUS_OK);
    EXPECT_TRUE(c->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
    if (c->code != MCPREG_STATUS_OK) return "";
    std::unique_ptr<google::protobuf::Message> response(
        factory
            .GetPrototype(pool_.FindMessageTypeByName(
                "mcpreg.v1.RegisterCustomServerResponse"))
            ->New());
    EXPECT_TRUE(response->ParseFromString(c->response));
    std::string out;
    (void)google::protobuf::util::MessageToJsonString(*response, &out);
    return out;
  }

  static std::string Body(const std::string& repo, const std::string& path,
                          const std::string& name = "",
                          const std::string& version = "1.0.0") {
    return absl::StrCat(R"({"projectKey": "ai-research", "repoArtifactInfo":
        {"repoKey": ")",
                        repo, R"(", "repoPath": ")", path, R"("},
        "name": ")",
                        name, R"(",
        "mcpServerInfo": {"description": "d", "version": ")",
                        version, R"("}})");
  }
  int WholeReads() {
    std::lock_guard<std::mutex> lock(platform_.mu);
    return platform_.whole_reads;
  }

  Platform platform_;
  std::string db_;
  std::string conninfo_;
  void* handle_ = nullptr;
  const mcpreg_plugin_api* api_ = nullptr;
  mcpreg_host_api host_{};
  mcpreg_instance* instance_ = nullptr;
  google::protobuf::DescriptorPool pool_;
};

TEST_F(HostCallbacksTest, RegistersThroughThePlatformsAccessAndStorage) {
  Completion c;
  const std::string json = Register(Body("team-pypi", kSdistPath),
                                    "Bearer platform-token-alice", &c);
  ASSERT_EQ(c.code, MCPREG_STATUS_OK) << c.message;
  EXPECT_THAT(json, HasSubstr("pypi:team-pypi:mcp-server"));
  EXPECT_THAT(json, HasSubstr("alice@platform"));  // the principal it named
  EXPECT_THAT(json, HasSubstr("\"created\":true"));
  std::lock_guard<std::mutex> lock(platform_.mu);
  EXPECT_THAT(platform_.asked,
              Contains(absl::StrCat(MCPREG_PERMISSION_ALLOW, " ai-research")));
  EXPECT_THAT(platform_.asked,
              Contains(absl::StrCat(MCPREG_PERMISSION_READ, " team-pypi")));
}

TEST_F(HostCallbacksTest, ThePlatformsRefusalsComeBackAsStatuses) {
  Completion nobody;
  Register(Body("team-pypi", kSdistPath), "Bearer someone-else", &nobody);
  EXPECT_EQ(nobody.code, MCPREG_STATUS_UNAUTHENTICATED) << nobody.message;

  Completion docker;
  Register(Body("docker-local", "x.tgz"), "Bearer platform-token-alice",
           &docker);
  EXPECT_EQ(docker.code, MCPREG_STATUS_FAILED_PRECONDITION) << docker.message;
  EXPECT_THAT(docker.message, HasSubstr("docker"));

  Completion missing;
  Register(Body("team-pypi", "pkgs/absent-1.0.0.tar.gz"),
           "Bearer platform-token-alice", &missing);
  EXPECT_EQ(missing.code, MCPREG_STATUS_NOT_FOUND) << missing.message;

  // Traversal never reaches the platform's storage.
  Completion traversal;
  Register(Body("team-pypi", "../../etc/passwd"), "Bearer platform-token-alice",
           &traversal);
  EXPECT_EQ(traversal.code, MCPREG_STATUS_INVALID_ARGUMENT);
  {
    std::lock_guard<std::mutex> lock(platform_.mu);
    for (const std::string& p : platform_.paths_seen) {
      EXPECT_THAT(p, ::testing::Not(HasSubstr("..")));
    }
    platform_.access_service_down = true;
  }
  Completion down;
  Register(Body("team-pypi", kSdistPath), "Bearer platform-token-alice", &down);
  EXPECT_EQ(down.code, MCPREG_STATUS_UNAVAILABLE) << down.message;
}

// A package already read is not read and unpacked again: its manifest is
// kept by the digest the platform reports for it.
TEST_F(HostCallbacksTest, APackageAlreadyReadIsNotReadAgain) {
  {
    std::lock_guard<std::mutex> lock(platform_.mu);
    platform_.reported_sha256 =
        Sha256Of(platform_.files[std::string("team-pypi/") + kSdistPath]);
  }
  Completion first;
  Register(Body("team-pypi", kSdistPath), "Bearer platform-token-alice",
           &first);
  ASSERT_EQ(first.code, MCPREG_STATUS_OK) << first.message;
  int reads_after_first;
  {
    std::lock_guard<std::mutex> lock(platform_.mu);
    reads_after_first = platform_.whole_reads;
  }
  EXPECT_GE(reads_after_first, 1);
  Completion second;  // the same package as another server
  const std::string json =
      Register(Body("team-pypi", kSdistPath, "second-server"),
               "Bearer platform-token-alice", &second);
  ASSERT_EQ(second.code, MCPREG_STATUS_OK) << second.message;
  EXPECT_THAT(json, HasSubstr("pypi:team-pypi:second-server"));
  std::lock_guard<std::mutex> lock(platform_.mu);
  EXPECT_EQ(platform_.whole_reads, reads_after_first);
}

// Bytes that do not hash to the digest the platform reported (the package
// was replaced between the two) are not registered under that digest.
TEST_F(HostCallbacksTest, APackageThatChangedWhileReadIsRefused) {
  {
    std::lock_guard<std::mutex> lock(platform_.mu);
    platform_.reported_sha256 = std::string(64, 'f');
  }
  Completion c;
  Register(Body("team-pypi", kSdistPath), "Bearer platform-token-alice", &c);
  EXPECT_EQ(c.code, MCPREG_STATUS_ABORTED) << c.message;
  EXPECT_THAT(c.message, HasSubstr("changed while it was being read"));
  EXPECT_THAT(c.message, HasSubstr("repoArtifactInfo.repoPath"));
  EXPECT_EQ(cluster->Psql(db_,
                          "DO $$ BEGIN IF (SELECT count(*) FROM servers) > 0 "
                          "THEN RAISE 'written'; END IF; END $$"),
            0);
}

// A registration the checks refuse leaves nothing in the manifest cache: the
// same package is read again next time, so failed registrations cannot
// fill the cache (one of up to ~1 MiB each).
TEST_F(HostCallbacksTest, ARefusedRegistrationCachesNothing) {
  const std::string bad_name_path = "pkgs/bad_name-1.0.0.tar.gz";
  {
    std::lock_guard<std::mutex> lock(platform_.mu);
    platform_.files[std::string("team-pypi/") + bad_name_path] =
        mcpreg::storage::BuildSdist("bad name!", "1.0.0", "d");
    platform_.files["team-pypi/pkgs/npm-thing-1.0.0.tgz"] =
        mcpreg::storage::BuildNpmTarball("npm-thing", "1.0.0", "d");
    // No digest reported: the plugin hashes, and caches by what it found.
  }
  struct Case {
    std::string body;
    int32_t code;
    const char* says;
  } cases[] = {
      // The package's own version disagrees.
      {Body("team-pypi", kSdistPath, "", "9.9.9"),
       MCPREG_STATUS_INVALID_ARGUMENT, "mcpServerInfo.version"},
      // An npm package in a PyPI repository.
      {Body("team-pypi", "pkgs/npm-thing-1.0.0.tgz"),
       MCPREG_STATUS_FAILED_PRECONDITION, "holds pypi packages"},
      // The package's own name is not a server name.
      {Body("team-pypi", bad_name_path), MCPREG_STATUS_INVALID_ARGUMENT,
       "repoArtifactInfo.repoPath"},
  };
  for (const Case& c : cases) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const int before = WholeReads();
      Completion done;
      Register(c.body, "Bearer platform-token-alice", &done);
      EXPECT_EQ(done.code, c.code) << done.message;
      EXPECT_THAT(done.message, HasSubstr(c.says));
      // Hashed, then read for the manifest: both times.
      EXPECT_EQ(WholeReads() - before, 2) << c.says << ", attempt " << attempt;
    }
  }
  // A registration that passes is cached: the next reads only to hash.
  Completion ok;
  Register(Body("team-pypi", kSdistPath), "Bearer platform-token-alice", &ok);
  ASSERT_EQ(ok.code, MCPREG_STATUS_OK) << ok.message;
  const int before = WholeReads();
  Completion again;
  Register(Body("team-pypi", kSdistPath, "again"),
           "Bearer platform-token-alice", &again);
  ASSERT_EQ(again.code, MCPREG_STATUS_OK) << again.message;
  EXPECT_EQ(WholeReads() - before, 1);
}

// A package the platform reports larger than maxArtifactBytes (64 MiB) is
// refused before the plugin reads any of it to hash.
TEST_F(HostCallbacksTest, APackageOverTheLimitIsNotReadToBeHashed) {
  {
    std::lock_guard<std::mutex> lock(platform_.mu);
    platform_.zero_files["team-pypi/pkgs/huge-1.0.0.tar.gz"] = uint64_t{1}
                                                               << 30;
  }
  Completion c;
  Register(Body("team-pypi", "pkgs/huge-1.0.0.tar.gz"),
           "Bearer platform-token-alice", &c);
  EXPECT_EQ(c.code, MCPREG_STATUS_RESOURCE_EXHAUSTED) << c.message;
  EXPECT_THAT(c.message, HasSubstr("repoArtifactInfo.repoPath"));
  std::lock_guard<std::mutex> lock(platform_.mu);
  EXPECT_EQ(platform_.bytes_read, 0u);
}

}  // namespace
