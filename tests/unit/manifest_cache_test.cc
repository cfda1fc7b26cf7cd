#include "storage/repo/manifest_cache.h"

#include <string>

#include "gtest/gtest.h"

namespace mcpreg::storage {
namespace {

PackageManifest Manifest(const std::string& name) {
  return PackageManifest{"pypi", "sdist", name, "1.0.0", "demo"};
}

std::string Digest(char c) { return std::string(64, c); }

TEST(ManifestCacheTest, FindsWhatWasStoredUnderTheSameDigestAndName) {
  ManifestCache cache;
  cache.Insert(Digest('a'), "mcp_server-1.0.0.tar.gz", Manifest("mcp-server"));
  auto found = cache.Find(Digest('a'), "mcp_server-1.0.0.tar.gz");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "mcp-server");
  EXPECT_EQ(found->format, "sdist");
}

// The file name picks the format, so the same bytes under another name
// (e.g. .tgz vs .tar.gz) are read again, never answered from the cache.
TEST(ManifestCacheTest, ADifferentDigestOrFileNameIsAMiss) {
  ManifestCache cache;
  cache.Insert(Digest('a'), "pkg-1.0.0.tar.gz", Manifest("pkg"));
  EXPECT_FALSE(cache.Find(Digest('b'), "pkg-1.0.0.tar.gz").has_value());
  EXPECT_FALSE(cache.Find(Digest('a'), "pkg-1.0.0.tgz").has_value());
  EXPECT_FALSE(cache.Find("", "pkg-1.0.0.tar.gz").has_value());
}

TEST(ManifestCacheTest, NeverHoldsMoreThanItsBound) {
  ManifestCache cache(/*max_entries=*/3);
  for (char c = 'a'; c <= 'h'; ++c) {
    cache.Insert(Digest(c), "p.tar.gz", Manifest(std::string(1, c)));
    EXPECT_LE(cache.size(), 3u);
  }
  // The newest is always kept.
  auto newest = cache.Find(Digest('h'), "p.tar.gz");
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(newest->name, "h");
}

TEST(ManifestCacheTest, AnArtifactWithoutADigestIsNotCached) {
  ManifestCache cache;
  cache.Insert("", "p.tar.gz", Manifest("p"));
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace mcpreg::storage
