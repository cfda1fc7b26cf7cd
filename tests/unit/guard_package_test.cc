// The guard's packages: unpacking under the registry's rules, the cache
// that notices a changed entry, and the command each kind of package runs.
#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "cli/guard/artifact_cache.h"
#include "cli/guard/package_launch.h"
#include "cli/guard/unpack.h"
#include "storage/repo/sample_packages.h"
#include "storage/repo/sha256.h"

namespace mcpreg::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/mcpreg-guard-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Sha256Of(const std::string& bytes) {
  storage::Sha256 d;
  d.Update(bytes.data(), bytes.size());
  return d.HexDigest();
}

la_ssize_t Append(archive*, void* out, const void* data, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), n);
  return static_cast<la_ssize_t>(n);
}

// A .tgz with one entry of any kind (a symlink when `link_to` is set).
std::string TarWith(const std::string& path, const std::string& link_to) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  archive_write_open(a, &out, nullptr, &Append, nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, path.c_str());
  if (link_to.empty()) {
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, 2);
  } else {
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_symlink(e, link_to.c_str());
  }
  archive_entry_set_perm(e, 0644);
  archive_write_header(a, e);
  if (link_to.empty()) archive_write_data(a, "hi", 2);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

TEST(GuardUnpackTest, APackageUnpacksWithItsFiles) {
  TempDir dir;
  ASSERT_TRUE(UnpackPackage(storage::BuildNpmTarball("tool", "1.0.0", "d"),
                            "tool-1.0.0.tgz", dir.path())
                  .ok());
  EXPECT_TRUE(fs::exists(dir.path() + "/package/package.json"));
  EXPECT_TRUE(fs::exists(dir.path() + "/package/index.js"));
}

TEST(GuardUnpackTest, EntriesThatCouldReachOutsideAreRefused) {
  for (const auto& [path, link] :
       std::vector<std::pair<std::string, std::string>>{
           {"../escape", ""},
           {"package/../../escape", ""},
           {"/etc/escape", ""},
           {"package/link", "/etc/passwd"},
           {"package/link", "../../x"}}) {
    TempDir dir;
    absl::Status s =
        UnpackPackage(TarWith(path, link), "x-1.0.0.tgz", dir.path());
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << path;
    EXPECT_FALSE(fs::exists(dir.path() + "/../escape"));
  }
}

TEST(GuardUnpackTest, MoreThanOneCompressionLayerIsRefused) {
  // A gzip of a gzipped tarball: what a decompression bomb hides in.
  const std::string inner = storage::BuildNpmTarball("tool", "1.0.0", "d");
  std::string outer;
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_raw(a);
  archive_write_open(a, &outer, nullptr, &Append, nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_write_header(a, e);
  archive_write_data(a, inner.data(), inner.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  TempDir dir;
  absl::Status s = UnpackPackage(outer, "tool-1.0.0.tgz", dir.path());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

TEST(GuardUnpackTest, TheSizeLimitHolds) {
  TempDir dir;
  UnpackLimits small;
  small.max_total_bytes = 16;
  absl::Status s = UnpackPackage(storage::BuildNpmTarball("tool", "1.0.0", "d"),
                                 "tool-1.0.0.tgz", dir.path(), small);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
}

class GuardCacheTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::string> Prepare(const std::string& bytes,
                                      const std::string& sha) {
    return cache_.Prepare(
        sha, "tool-1.0.0.tgz",
        [&]() -> absl::StatusOr<std::string> {
          ++fetches_;
          return bytes;
        },
        [&](const std::string& note) { notes_.push_back(note); });
  }

  TempDir root_;
  ArtifactCache cache_{root_.path()};
  int fetches_ = 0;
  std::vector<std::string> notes_;
};

TEST_F(GuardCacheTest, ASecondStartUsesTheCacheWithoutFetching) {
  const std::string bytes = storage::BuildNpmTarball("tool", "1.0.0", "d");
  auto first = Prepare(bytes, Sha256Of(bytes));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Prepare(bytes, Sha256Of(bytes));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(fetches_, 1);
  EXPECT_THAT(notes_, ElementsAre("fetched", "cached"));
}

TEST_F(GuardCacheTest, AChangedEntryIsNoticedAndFetchedAgain) {
  const std::string bytes = storage::BuildNpmTarball("tool", "1.0.0", "d");
  auto tree = Prepare(bytes, Sha256Of(bytes));
  ASSERT_TRUE(tree.ok());
  std::ofstream(*tree + "/package/index.js", std::ios::app) << "\n// evil\n";
  auto again = Prepare(bytes, Sha256Of(bytes));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(fetches_, 2);
  EXPECT_THAT(notes_[1], HasSubstr("changed"));
  std::ifstream in(*again + "/package/index.js");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_THAT(text, ::testing::Not(HasSubstr("evil")));
  // An added file counts as a change too.
  std::ofstream(*again + "/package/extra.js") << "x";
  ASSERT_TRUE(Prepare(bytes, Sha256Of(bytes)).ok());
  EXPECT_EQ(fetches_, 3);
}

TEST_F(GuardCacheTest, APackageWithAnotherDigestIsRefusedAndNotKept) {
  const std::string bytes = storage::BuildNpmTarball("tool", "1.0.0", "d");
  const std::string registered = Sha256Of("something else");
  auto refused = Prepare(bytes, registered);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("as registered"));
  EXPECT_FALSE(fs::exists(root_.path() + "/" + registered));
}

TEST(GuardLaunchTest, EachKindOfPackageRunsItsDeclaredServer) {
  TempDir npm, wheel, sdist;
  ASSERT_TRUE(
      UnpackPackage(storage::BuildNpmTarball("@acme/tool", "1.0.0", "d"),
                    "tool-1.0.0.tgz", npm.path())
          .ok());
  auto n = LaunchCommand(npm.path(), "tool-1.0.0.tgz", "npm", "@acme/tool");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_THAT(n->argv, ElementsAre("node", npm.path() + "/package/index.js"));

  ASSERT_TRUE(UnpackPackage(storage::BuildWheel("my-tool", "1.0.0", "d"),
                            "my_tool-1.0.0-py3-none-any.whl", wheel.path())
                  .ok());
  auto w = LaunchCommand(wheel.path(), "my_tool-1.0.0-py3-none-any.whl", "pypi",
                         "my-tool");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(w->argv, ElementsAre("python3", "-c",
                                   HasSubstr("from my_tool import main")));
  EXPECT_EQ(w->env.at("PYTHONPATH"), wheel.path());

  ASSERT_TRUE(UnpackPackage(storage::BuildSdist("my-tool", "1.0.0", "d"),
                            "my_tool-1.0.0.tar.gz", sdist.path())
                  .ok());
  auto s =
      LaunchCommand(sdist.path(), "my_tool-1.0.0.tar.gz", "pypi", "my-tool");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->argv[2], HasSubstr("from my_tool import main"));
  EXPECT_EQ(s->env.at("PYTHONPATH"), sdist.path() + "/my_tool-1.0.0/src");
}

TEST(GuardLaunchTest, ARequiredArgumentWithoutAValueStopsTheStart) {
  v1::ServerVersion version;
  auto* key = version.add_runtime_arguments();
  key->set_name("--api-key");
  key->set_is_required(true);
  key->set_is_secret(true);
  Launch launch;
  launch.argv = {"node", "x.js"};
  absl::Status refused = AddRuntimeArguments(version, {}, {}, launch);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("--api-key"));
  Launch given;
  given.argv = {"node", "x.js"};
  ASSERT_TRUE(
      AddRuntimeArguments(version, {{"--api-key", "k"}}, {}, given).ok());
  EXPECT_THAT(given.argv, ElementsAre("node", "x.js", "--api-key", "k"));
}

TEST(GuardLaunchTest, ArgumentsAndEnvironmentAsRegistered) {
  v1::ServerVersion version;
  auto* port = version.add_runtime_arguments();
  port->set_name("--port");
  port->set_type("int");
  port->set_default_value("8080");
  auto* quiet = version.add_runtime_arguments();
  quiet->set_name("--quiet");
  quiet->set_type("bool");
  quiet->set_default_value("false");
  auto* secret = version.add_environment_variables();
  secret->set_name("DB_URL");
  secret->set_is_required(true);
  secret->set_is_secret(true);
  Launch launch;
  launch.argv = {"node", "x.js"};
  ASSERT_TRUE(
      AddRuntimeArguments(version, {{"--quiet", "true"}}, {"--extra"}, launch)
          .ok());
  EXPECT_THAT(launch.argv, ElementsAre("node", "x.js", "--port", "8080",
                                       "--quiet", "--extra"));
  char token[] = "MCPREG_TOKEN=secret-token";
  char path[] = "PATH=/usr/bin";
  char* missing[] = {token, path, nullptr};
  absl::Status refused = AddEnvironment(version, missing, launch);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("DB_URL"));
  char db[] = "DB_URL=postgres://x";
  char* present[] = {token, path, db, nullptr};
  ASSERT_TRUE(AddEnvironment(version, present, launch).ok());
  EXPECT_EQ(launch.env.at("DB_URL"), "postgres://x");
  EXPECT_EQ(launch.env.count("MCPREG_TOKEN"), 0u);  // never the server's
}

}  // namespace
}  // namespace mcpreg::cli
