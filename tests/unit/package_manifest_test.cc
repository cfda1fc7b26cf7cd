// Package manifests read out of real archives the tests build with libarchive,
// and the sample packages checked as packages that actually run.
#include "storage/repo/package_manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "storage/repo/sample_packages.h"

namespace mcpreg::storage {
namespace {

using ::testing::HasSubstr;

TEST(PackageManifestTest, ReadsAnSdist) {
  auto m = ReadPackageManifest("mcp_server-1.0.0.tar.gz",
                               BuildSdist("mcp-server", "1.0.0", "Example"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->package_type, "pypi");
  EXPECT_EQ(m->format, "sdist");
  EXPECT_EQ(m->name, "mcp-server");
  EXPECT_EQ(m->version, "1.0.0");
  EXPECT_EQ(m->description, "Example");
}

TEST(PackageManifestTest, ReadsAWheel) {
  auto m = ReadPackageManifest("mcp_server-2.1-py3-none-any.whl",
                               BuildWheel("mcp-server", "2.1", "Wheel one"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->package_type, "pypi");
  EXPECT_EQ(m->format, "wheel");
  EXPECT_EQ(m->name, "mcp-server");
  EXPECT_EQ(m->version, "2.1");
}

TEST(PackageManifestTest, ReadsAnNpmTarballUnderEitherExtension) {
  for (const char* file : {"simple-mcp-1.0.0.tgz", "simple-mcp-1.0.0.tar.gz"}) {
    auto m = ReadPackageManifest(
        file, BuildNpmTarball("@acme/simple-mcp", "1.0.0", "Npm one"));
    ASSERT_TRUE(m.ok()) << file << ": " << m.status();
    EXPECT_EQ(m->package_type, "npm");
    EXPECT_EQ(m->name, "@acme/simple-mcp");
    EXPECT_EQ(m->version, "1.0.0");
    EXPECT_EQ(m->description, "Npm one");
  }
}

TEST(PackageManifestTest, MetadataHeadersStopAtTheBody) {
  const std::string pkg_info =
      "Metadata-Version: 2.1\r\nName: real-name\r\nVersion: 3.0\r\n"
      "Summary: s\r\nDescription: first line\r\n        Name: not-this\r\n"
      "\r\nName: body-not-a-header\r\n";
  auto m = ReadPackageManifest("x.tar.gz",
                               BuildTarGz({{"x-3.0/PKG-INFO", pkg_info}}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->name, "real-name");
  EXPECT_EQ(m->version, "3.0");
}

TEST(PackageManifestTest, OnlyTopLevelManifestsCount) {
  // A manifest nested deeper, or reached through "..", is not the package's.
  auto m = ReadPackageManifest(
      "x.tgz",
      BuildTarGz({{"package/node_modules/dep/package.json", R"({"name":"d"})"},
                  {"package/../package.json", R"({"name":"evil"})"},
                  {"package/index.js", "1"}}));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("package.json"));
}

TEST(PackageManifestTest, BrokenPackagesAreFailedPrecondition) {
  struct Case {
    const char* file;
    std::string bytes;
    const char* says;
  } cases[] = {
      {"a.tgz", "definitely not gzip", "not a readable"},
      {"a.tgz", "", "not a readable"},
      {"a.tgz", BuildTarGz({{"package/package.json", "{not json"}}),
       "not a JSON object"},
      {"a.tgz", BuildTarGz({{"package/package.json", R"({"version":"1"})"}}),
       "no \"name\""},
      {"a.tar.gz", BuildTarGz({{"a-1/PKG-INFO", "Version: 1\n"}}), "no Name"},
      {"a.whl", BuildZip({{"a/__init__.py", ""}}), "METADATA"},
      {"a.tgz",
       BuildTarGz(
           {{"package/package.json", std::string(kMaxManifestBytes + 1, ' ')}}),
       "larger than"},
      {"a.exe", "MZ", "not a package file"},
      {"README.md", "# hi", "expected .tgz"},
  };
  for (const Case& c : cases) {
    auto m = ReadPackageManifest(c.file, c.bytes);
    EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition)
        << c.file << " " << c.says << ": " << m.status();
    EXPECT_THAT(std::string(m.status().message()), HasSubstr(c.says));
  }
}

TEST(PackageManifestTest, TruncatedArchivesAreRefusedNotCrashed) {
  const std::string good = BuildSdist("mcp-server", "1.0.0", "Example");
  for (size_t cut :
       {size_t{10}, good.size() / 4, good.size() / 2, good.size() - 5}) {
    auto m = ReadPackageManifest("a.tar.gz", good.substr(0, cut));
    // Either the manifest was already read or the archive is refused.
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
    }
  }
}

TEST(SamplePackagesTest, AreDeterministic) {
  EXPECT_EQ(BuildSdist("a", "1.0.0", "s"), BuildSdist("a", "1.0.0", "s"));
  EXPECT_EQ(BuildNpmTarball("a", "1.0.0", "s"),
            BuildNpmTarball("a", "1.0.0", "s"));
}

// Runs `command` with `input` on stdin and returns its stdout.
std::string RunWithInput(const std::string& command, const std::string& input) {
  // Per process: ctest runs these tests as separate processes, in parallel.
  const std::string in_file =
      absl::StrCat(::testing::TempDir(), "/mcp-input-", getpid(), ".jsonl");
  std::ofstream(in_file) << input;
  FILE* p = popen((command + " < " + in_file).c_str(), "r");
  std::string out;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), p)) out.append(buffer, n);
  pclose(p);
  std::remove(in_file.c_str());
  return out;
}

constexpr char kSession[] =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})"
    "\n"
    R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
    "\n"
    R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})"
    "\n"
    R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}})"
    "\n";

// Unpacks `archive` into a fresh folder with the system tar.
std::string Unpack(const std::string& name, const std::string& archive) {
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/unpacked-", getpid(), "-", name);
  std::system(
      absl::StrCat("rm -rf '", dir, "' && mkdir -p '", dir, "'").c_str());
  std::ofstream(dir + "/" + name, std::ios::binary) << archive;
  EXPECT_EQ(std::system(
                absl::StrCat("cd '", dir, "' && tar xzf '", name, "'").c_str()),
            0);
  return dir;
}

TEST(SamplePackagesTest, TheSdistRunsAsAnMcpServer) {
  const std::string dir = Unpack("mcp_server-1.0.0.tar.gz",
                                 BuildSdist("mcp-server", "1.0.0", "Example"));
  const std::string out = RunWithInput(
      absl::StrCat("cd '", dir,
                   "/mcp_server-1.0.0/src' && python3 -m mcp_server"),
      kSession);
  EXPECT_THAT(out, HasSubstr(R"("protocolVersion")"));
  EXPECT_THAT(out, HasSubstr(R"("name": "echo")"));
  EXPECT_THAT(out, HasSubstr(R"("text": "hello")"));
}

TEST(SamplePackagesTest, TheNpmTarballRunsAsAnMcpServer) {
  const std::string dir = Unpack("simple-mcp-1.0.0.tgz",
                                 BuildNpmTarball("simple-mcp", "1.0.0", "Ex"));
  const std::string out =
      RunWithInput(absl::StrCat("node '", dir, "/package/index.js'"), kSession);
  EXPECT_THAT(out, HasSubstr(R"("protocolVersion")"));
  EXPECT_THAT(out, HasSubstr(R"("name":"echo")"));
  EXPECT_THAT(out, HasSubstr(R"("text":"hello")"));
}

}  // namespace
}  // namespace mcpreg::storage
