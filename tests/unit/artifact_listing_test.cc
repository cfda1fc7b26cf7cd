// Listing a repository folder that anyone with write access filled: files
// under a prefix, sorted; no symlink followed (in or out of the repository),
// no FIFO opened, dot-files skipped, and the walk bounded.
#include "storage/repo/artifact_listing.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mcpreg::storage {
namespace {

using ::testing::ElementsAre;

class ArtifactListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcpreg-listing-XXXXXX";
    root_ = mkdtemp(tmpl);
    repo_ = root_ + "/repo";
    std::filesystem::create_directories(repo_);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    std::filesystem::remove_all(root_);
  }
  void Write(const std::string& path, const std::string& content = "x") {
    const std::filesystem::path p = repo_ + "/" + path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  std::vector<std::string> Paths(const std::string& prefix, size_t limit = 100,
                                 bool* truncated = nullptr) {
    if (fd_ < 0) fd_ = open(repo_.c_str(), O_RDONLY | O_DIRECTORY);
    absl::StatusOr<ArtifactListing> l =
        ListFilesBeneath(fd_, prefix, limit, CallDeadline());
    EXPECT_TRUE(l.ok()) << l.status();
    std::vector<std::string> out;
    if (!l.ok()) return out;
    for (const ArtifactEntry& e : l->files) out.push_back(e.path);
    if (truncated != nullptr) *truncated = l->truncated;
    return out;
  }

  std::string root_, repo_;
  int fd_ = -1;
};

TEST_F(ArtifactListingTest, FilesUnderAPrefixSorted) {
  Write("org/b/pkg-2.tgz");
  Write("org/a/pkg-1.tgz", "12345");
  Write("org/a/README.md");
  Write("other/x.tgz");
  EXPECT_THAT(Paths(""), ElementsAre("org/a/README.md", "org/a/pkg-1.tgz",
                                     "org/b/pkg-2.tgz", "other/x.tgz"));
  EXPECT_THAT(Paths("org/"), ElementsAre("org/a/README.md", "org/a/pkg-1.tgz",
                                         "org/b/pkg-2.tgz"));
  EXPECT_THAT(Paths("org/a/pk"), ElementsAre("org/a/pkg-1.tgz"));
  EXPECT_THAT(Paths("o"), ElementsAre("org/a/README.md", "org/a/pkg-1.tgz",
                                      "org/b/pkg-2.tgz", "other/x.tgz"));
  EXPECT_THAT(Paths("nothing/here/"), ElementsAre());
  bool truncated = false;
  EXPECT_THAT(Paths("org/", 2, &truncated),
              ElementsAre("org/a/README.md", "org/a/pkg-1.tgz"));
  EXPECT_TRUE(truncated);
}

TEST_F(ArtifactListingTest, SymlinksFifosAndDotFilesAreNotListed) {
  Write("pkg/real.tgz");
  Write("pkg/.real.tgz.tmp.1.2");  // a write in progress
  std::filesystem::create_directories(root_ + "/outside");
  std::ofstream(root_ + "/outside/secret.tgz") << "s";
  std::filesystem::create_directory_symlink(root_ + "/outside",
                                            repo_ + "/pkg/escape");
  std::filesystem::create_symlink(repo_ + "/pkg/real.tgz",
                                  repo_ + "/pkg/alias.tgz");
  ASSERT_EQ(mkfifo((repo_ + "/pkg/fifo.tgz").c_str(), 0600), 0);
  EXPECT_THAT(Paths(""), ElementsAre("pkg/real.tgz"));
  // Naming the symlink's folder in the prefix is refused, not followed.
  EXPECT_EQ(
      ListFilesBeneath(fd_, "pkg/escape/", 10, CallDeadline()).status().code(),
      absl::StatusCode::kPermissionDenied);
}

TEST_F(ArtifactListingTest, APrefixThatClimbsIsRefused) {
  if (fd_ < 0) fd_ = open(repo_.c_str(), O_RDONLY | O_DIRECTORY);
  for (const char* prefix : {"../", "/etc/", "a/../../", "a//b"}) {
    absl::StatusOr<ArtifactListing> l =
        ListFilesBeneath(fd_, prefix, 10, CallDeadline());
    EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument) << prefix;
  }
}

TEST_F(ArtifactListingTest, TheWalkIsBounded) {
  for (size_t i = 0; i < kMaxListingVisits + 10; ++i) {
    std::ofstream(repo_ + "/f" + std::to_string(i));
  }
  bool truncated = false;
  EXPECT_EQ(Paths("", 1000000, &truncated).size(), kMaxListingVisits);
  EXPECT_TRUE(truncated);
}

}  // namespace
}  // namespace mcpreg::storage
