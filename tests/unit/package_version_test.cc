// Version order per ecosystem, and which registered version is the latest.
#include "storage/repo/package_version.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mcpreg::storage {
namespace {

// Each list is in ascending order: every pair must compare that way.
void ExpectAscending(const std::string& type,
                     const std::vector<std::string>& versions) {
  for (size_t i = 0; i < versions.size(); ++i) {
    for (size_t j = 0; j < versions.size(); ++j) {
      const std::optional<int> c =
          CompareVersions(type, versions[i], versions[j]);
      ASSERT_TRUE(c.has_value()) << versions[i] << " vs " << versions[j];
      const int want = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(*c < 0 ? -1 : (*c > 0 ? 1 : 0), want)
          << type << ": " << versions[i] << " vs " << versions[j];
    }
  }
}

TEST(PackageVersionTest, SemVerPrecedenceAsTheSpecificationListsIt) {
  // The example from semver.org section 11, plus numbers past 9 and 64 bits.
  ExpectAscending(
      "npm", {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
              "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2.0",
              "1.10.0", "2.0.0", "99999999999999999999.0.0"});
}

TEST(PackageVersionTest, SemVerBuildMetadataDoesNotOrder) {
  EXPECT_EQ(CompareVersions("npm", "1.0.0+build.1", "1.0.0+build.2"), 0);
}

TEST(PackageVersionTest, Pep440OrderAsPipSortsIt) {
  ExpectAscending("pypi", {"1.0.dev1", "1.0a1.dev1", "1.0a1", "1.0a2", "1.0b1",
                           "1.0rc1", "1.0", "1.0.post1.dev1", "1.0.post1",
                           "1.0.1", "1.1", "1.10", "2.0", "1!0.1"});
}

TEST(PackageVersionTest, Pep440TrailingZerosAndLocalVersions) {
  EXPECT_EQ(CompareVersions("pypi", "1.0", "1.0.0"), 0);
  ExpectAscending("pypi", {"1.0", "1.0+abc", "1.0+abc.1", "1.0+1"});
}

TEST(PackageVersionTest, AVersionInTheOtherSchemeIsOrderedThere) {
  // The registry accepts either spelling for either type.
  EXPECT_GT(*CompareVersions("pypi", "1.2.3", "1.2.3-beta.1"), 0);
  EXPECT_GT(*CompareVersions("npm", "1.0rc1", "1.0a1"), 0);
  EXPECT_FALSE(CompareVersions("npm", "1.0rc1", "1.0.0-x").has_value());
  EXPECT_FALSE(CompareVersions("npm", "not a version", "1.0.0").has_value());
}

TEST(PackageVersionTest, PreReleases) {
  EXPECT_TRUE(IsPreRelease("npm", "2.0.0-beta.1"));
  EXPECT_FALSE(IsPreRelease("npm", "2.0.0+build"));
  EXPECT_TRUE(IsPreRelease("pypi", "2.0rc1"));
  EXPECT_TRUE(IsPreRelease("pypi", "2.0.dev3"));
  EXPECT_FALSE(IsPreRelease("pypi", "2.0.post1"));
  EXPECT_FALSE(IsPreRelease("pypi", "1.0.0"));
}

TEST(PackageVersionTest, TheLatestIsTheHighestFinalRelease) {
  // A backport registered after 2.0.0 does not take "latest" from it.
  EXPECT_FALSE(SupersedesLatest("npm", "1.4.1", "2.0.0"));
  EXPECT_TRUE(SupersedesLatest("npm", "2.0.1", "2.0.0"));
  // A pre-release never takes it from a final release, even a lower one...
  EXPECT_FALSE(SupersedesLatest("npm", "3.0.0-rc.1", "2.0.0"));
  EXPECT_FALSE(SupersedesLatest("pypi", "3.0rc1", "2.0"));
  // ...but leads while there is no final release, and yields to the first.
  EXPECT_TRUE(SupersedesLatest("npm", "1.0.0-rc.2", "1.0.0-rc.1"));
  EXPECT_TRUE(SupersedesLatest("npm", "0.9.0", "1.0.0-rc.2"));
  // Versions no one scheme orders: the one registered last.
  EXPECT_TRUE(SupersedesLatest("npm", "1.0rc1", "1.0.0-x"));
  // Equal in order (1.0 == 1.0.0): the first stays.
  EXPECT_FALSE(SupersedesLatest("pypi", "1.0.0", "1.0"));
}

}  // namespace
}  // namespace mcpreg::storage
