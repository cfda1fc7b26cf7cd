// Artifact paths arrive in requests; none of these may name a file outside
// its repository, however it is spelled.
#include "storage/repo/safe_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace mcpreg::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class RejectedPathTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RejectedPathTest, IsInvalidArgumentNamingTheField) {
  absl::Status s = CheckRelativePath(GetParam(), "repoArtifactInfo.repoPath");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << GetParam();
  EXPECT_THAT(std::string(s.message()),
              StartsWith("repoArtifactInfo.repoPath: "));
}

const std::string kNul("a/b\0c.tgz", 9);

INSTANTIATE_TEST_SUITE_P(
    Traversal, RejectedPathTest,
    ::testing::Values(
        // empty and dot components
        "", ".", "..", "./a.tgz", "../a.tgz", "a/../b.tgz", "a/./b.tgz", "a/..",
        "a/.", "../../etc/passwd", "a/b/../../../etc/passwd", "..//a",
        "a//b.tgz", "a/", "/", "a/b/", "...//a/..",
        // absolute and drive letters
        "/etc/passwd", "//server/share/a.tgz", "/a/../b", "C:/Windows/win.ini",
        "c:a.tgz", "Z:",
        // backslashes
        "a\\b.tgz", "..\\a.tgz", "a\\..\\..\\b", "\\\\server\\share",
        "a/..\\..\\b",
        // percent-encoded separators and dots
        "%2e%2e/a.tgz", "%2E%2E%2Fetc%2Fpasswd", "a%2f..%2fb", "..%2f",
        "%2e./a", "a/%2e%2e", "a%5c..%5cb", "a%00.tgz", "%252e%252e/a",
        // NUL and control characters
        kNul, std::string("\0", 1), "a/\x01/b", "a\nb", "a\rb", "a\tb", "a\x7f",
        // invalid UTF-8: stray continuation, overlong '/', overlong '.',
        // surrogate, truncated sequence, beyond U+10FFFF
        "a\x80.tgz", "a\xC0\xAF..", "\xC0\xAE\xC0\xAE/a", "\xE0\x80\xAF",
        "a\xED\xA0\x80", "a\xE2\x82", "\xF4\x90\x80\x80", "\xFF",
        // overlong path and component
        std::string(1025, 'a'), std::string(256, 'b') + "/c.tgz"));

TEST(CheckRelativePathTest, AcceptsOrdinaryArtifactPaths) {
  for (const char* path :
       {"org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz",
        "org/project/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz", "a.tgz",
        "@scope/pkg/-/pkg-1.0.0.tgz", "dir.with.dots/..hidden/file..tgz",
        "a/.b/c", "résumé/ünïcode-1.0.whl", "a%20b.tgz", "a b/c d.tgz"}) {
    EXPECT_TRUE(CheckRelativePath(path, "p").ok()) << path;
  }
  std::string longest;
  for (int i = 0; i < 4; ++i) longest += std::string(200, 'a') + "/";
  longest += std::string(kMaxPathBytes - longest.size(), 'b');
  EXPECT_TRUE(CheckRelativePath(longest, "p").ok());
}

TEST(CheckRelativePathTest, MessagesSayWhatIsWrong) {
  EXPECT_THAT(std::string(CheckRelativePath("../a", "f").message()),
              HasSubstr("'..'"));
  EXPECT_THAT(std::string(CheckRelativePath("/a", "f").message()),
              HasSubstr("absolute"));
  EXPECT_THAT(std::string(CheckRelativePath("", "f").message()),
              HasSubstr("required"));
}

}  // namespace
}  // namespace mcpreg::storage
