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
  const size_t one =
      ManifestCache::Cost(std::string(64, 'a') + "/p.tar.gz", Manifest("a"));
  ManifestCache cache(/*max_bytes=*/3 * one);
  for (char c = 'a'; c <= 'h'; ++c) {
    cache.Insert(Digest(c), "p.tar.gz", Manifest(std::string(1, c)));
    EXPECT_LE(cache.size(), 3u);
    EXPECT_LE(cache.bytes(), 3 * one);
  }
  // The newest is always kept, the oldest dropped first.
  auto newest = cache.Find(Digest('h'), "p.tar.gz");
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(newest->name, "h");
  EXPECT_TRUE(cache.Find(Digest('f'), "p.tar.gz").has_value());
  EXPECT_FALSE(cache.Find(Digest('e'), "p.tar.gz").has_value());
}

// A description may be a whole 1 MiB manifest: 4096 of those would be 4 GiB.
// The bound is on bytes, whatever the entries hold.
TEST(ManifestCacheTest, LargeManifestsAreBoundedByBytesNotCount) {
  ManifestCache cache(/*max_bytes=*/size_t{8} << 20);
  PackageManifest big = Manifest("big");
  big.description = std::string(1 << 20, 'd');
  for (int i = 0; i < 100; ++i) {
    cache.Insert(std::string(63, 'a') + static_cast<char>('0' + i % 10) +
                     std::to_string(i),
                 "p.tgz", big);
    EXPECT_LE(cache.bytes(), size_t{8} << 20);
  }
  EXPECT_GE(cache.size(), 6u);
  EXPECT_LE(cache.size(), 8u);
  // One larger than the whole budget is not kept at all.
  ManifestCache small(/*max_bytes=*/1 << 20);
  small.Insert(Digest('a'), "p.tgz", big);
  EXPECT_EQ(small.size(), 0u);
  EXPECT_EQ(small.bytes(), 0u);
}

TEST(ManifestCacheTest, AnArtifactWithoutADigestIsNotCached) {
  ManifestCache cache;
  cache.Insert("", "p.tar.gz", Manifest("p"));
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace mcpreg::storage
