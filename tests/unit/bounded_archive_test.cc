// Hostile archives against the bounded reader: extra gzip layers, zero
// bombs before the manifest (skipped and as sparse holes), entry counts,
// deadlines and cancellation. Each archive is built in a few milliseconds
// (tests/support/hostile_archives.h); what is asserted is how far reading
// got before it stopped, never how fast.
#include "storage/repo/bounded_archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/repo/package_manifest.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/hostile_archives.h"

namespace mcpreg::storage {
namespace {

using ::mcpreg::testing::Gzip;
using ::mcpreg::testing::HoleBombNpm;
using ::mcpreg::testing::TarGzBuilder;
using ::mcpreg::testing::ZeroBombNpm;
using ::testing::HasSubstr;

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr int64_t kMiB = int64_t{1} << 20;

// Reads every entry's header, skipping the bodies, until the end or an
// error; `inflated` receives how much was inflated by then.
absl::Status ReadAll(absl::string_view bytes, ArchiveKind kind,
                     const ArchiveLimits& limits, int64_t* inflated,
                     CallDeadline deadline = CallDeadline()) {
  absl::StatusOr<std::unique_ptr<BoundedArchiveReader>> reader =
      BoundedArchiveReader::Open(bytes, kind, std::move(deadline), limits);
  *inflated = 0;
  if (!reader.ok()) return reader.status();
  for (;;) {
    absl::StatusOr<std::optional<ArchiveEntryHeader>> entry = (*reader)->Next();
    *inflated = (*reader)->inflated_bytes();
    if (!entry.ok()) return entry.status();
    if (!entry->has_value()) return absl::OkStatus();
  }
}

// Limits that never refuse, so that only the deadline can stop reading.
ArchiveLimits Unlimited() {
  ArchiveLimits limits;
  limits.max_inflated_bytes = std::numeric_limits<int64_t>::max();
  limits.ratio_floor_bytes = std::numeric_limits<int64_t>::max();
  return limits;
}

TEST(BoundedArchiveTest, ASecondGzipLayerIsRefusedBeforeAnythingIsInflated) {
  // libarchive would stack the layers by itself and read this package.
  const std::string twice =
      Gzip(BuildNpmTarball("simple-mcp", "1.0.0", "Twice gzipped"));
  auto m = ReadPackageManifest("simple-mcp-1.0.0.tgz", twice);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition)
      << m.status();
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr("one gzip layer over a tar; this one has 2"));

  // The bomb: 4 GiB of zeros before package.json, twice gzipped (~100 KB).
  const std::string bomb = Gzip(ZeroBombNpm(4 * kGiB));
  std::cout << "double-gzipped 4 GiB bomb: " << bomb.size() << " bytes\n";
  int64_t inflated = 0;
  absl::Status s = ReadAll(bomb, ArchiveKind::kTarGz, {}, &inflated);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_LT(inflated, kMiB);
  m = ReadPackageManifest("bomb-1.0.0.tgz", bomb);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition)
      << m.status();
}

TEST(BoundedArchiveTest, EachKindHasExactlyItsOwnLayers) {
  // A .tgz must be gzipped; a .whl must not be.
  auto plain = ReadPackageManifest(
      "p-1.0.0.tgz", TarGzBuilder(/*gzip=*/false)
                         .File("package/package.json", R"({"name":"p"})")
                         .Finish());
  EXPECT_EQ(plain.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(plain.status().message()),
              HasSubstr("this one has 0 gzip layers"));
  auto wheel = ReadPackageManifest("p-1.0-py3-none-any.whl",
                                   Gzip(BuildWheel("p", "1.0", "s")));
  EXPECT_EQ(wheel.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wheel.status().message()),
              HasSubstr("this one has 1 gzip layers"));
  // A zip named .tgz, a tar named .whl.
  EXPECT_EQ(
      ReadPackageManifest("p.tgz", BuildWheel("p", "1.0", "s")).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      ReadPackageManifest("p.whl", BuildSdist("p", "1.0", "s")).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST(BoundedArchiveTest, AZeroBombBeforeTheManifestStopsAtTheRatio) {
  // 4 GiB of zeros in ~4 MB: skipping them once meant inflating all of it
  // inside one archive_read_next_header, and the package then registered.
  const std::string bomb = ZeroBombNpm(4 * kGiB);
  std::cout << "4 GiB zero bomb: " << bomb.size() << " bytes\n";
  auto m = ReadPackageManifest("bomb-1.0.0.tgz", bomb);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted)
      << m.status();
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr("inflates more than 200 times its compressed size"));

  int64_t inflated = 0;
  absl::Status s = ReadAll(bomb, ArchiveKind::kTarGz, {}, &inflated);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  // Past the 16 MiB floor by at most a block or two.
  EXPECT_LT(inflated, 20 * kMiB);
  std::cout << "refused after inflating " << inflated << " bytes\n";
}

TEST(BoundedArchiveTest, TheTotalBoundHoldsInsideAnEntry) {
  ArchiveLimits limits = Unlimited();
  limits.max_inflated_bytes = 8 * kMiB;
  int64_t inflated = 0;
  absl::Status s =
      ReadAll(ZeroBombNpm(256 * kMiB), ArchiveKind::kTarGz, limits, &inflated);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("more than 8 MiB"));
  // Checked block by block, not only between entries.
  EXPECT_LT(inflated, 9 * kMiB);
}

TEST(BoundedArchiveTest, AHoleSkippedInsideLibarchiveIsBoundedToo) {
  // A Solaris sparse map declares the whole body a hole: libarchive's tar
  // reader then consumes it inside a single read call, never returning a
  // block. The source's own check stops it there.
  int64_t inflated = 0;
  absl::Status s =
      ReadAll(HoleBombNpm(4 * kGiB), ArchiveKind::kTarGz, {}, &inflated);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_LT(inflated, 48 * kMiB);
  std::cout << "hole bomb refused after inflating " << inflated << " bytes\n";

  // And the deadline, with no byte limit at all.
  const absl::Time start = absl::Now();
  s = ReadAll(HoleBombNpm(4 * kGiB), ArchiveKind::kTarGz, Unlimited(),
              &inflated, CallDeadline(absl::Now() + absl::Milliseconds(100)));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_LT(inflated, int64_t{4} << 30);
  std::cout << "hole bomb stopped by a 100 ms deadline after "
            << absl::Now() - start << ", " << inflated << " bytes\n";
}

TEST(BoundedArchiveTest, TheDeadlineStopsASkip) {
  int64_t inflated = 0;
  // Already past: nothing is read.
  absl::Status s =
      ReadAll(ZeroBombNpm(4 * kGiB), ArchiveKind::kTarGz, Unlimited(),
              &inflated, CallDeadline(absl::Now() - absl::Seconds(1)));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("deadline"));

  // Passing while the zeros are skipped: stopped part of the way in.
  const absl::Time start = absl::Now();
  s = ReadAll(ZeroBombNpm(4 * kGiB), ArchiveKind::kTarGz, Unlimited(),
              &inflated, CallDeadline(absl::Now() + absl::Milliseconds(100)));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_GT(inflated, 0);
  EXPECT_LT(inflated, int64_t{4} << 30);
  std::cout << "stopped by a 100 ms deadline after " << absl::Now() - start
            << ", " << inflated << " bytes\n";
}

TEST(BoundedArchiveTest, ACancelledCallStopsReading) {
  std::atomic<int> polls{0};
  CallDeadline cancelled_soon(absl::InfiniteFuture(),
                              [&polls] { return ++polls > 10; });
  auto m = ReadPackageManifest("bomb-1.0.0.tgz", ZeroBombNpm(4 * kGiB),
                               cancelled_soon, Unlimited());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kCancelled) << m.status();
}

TEST(BoundedArchiveTest, EntriesAreCapped) {
  TarGzBuilder many;
  for (int i = 0; i < 60; ++i) many.File(absl::StrCat("package/f", i), "x");
  many.File("package/package.json", R"({"name":"p"})");
  ArchiveLimits limits;
  limits.max_entries = 50;
  auto m = ReadPackageManifest("p.tgz", many.Finish(), CallDeadline(), limits);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted)
      << m.status();
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("more than 50"));
}

// A zip's central directory is parsed whole, one allocation per record,
// when the first entry is read: bounded by the input it may take.
TEST(BoundedArchiveTest, AZipsCentralDirectoryIsBounded) {
  std::vector<ArchiveEntry> entries;
  for (int i = 0; i < 40000; ++i) {
    entries.push_back({absl::StrCat("p/", i), ""});
  }
  entries.push_back({"p-1.0.dist-info/METADATA", "Name: p\n"});
  const std::string zip = BuildZip(entries);
  ArchiveLimits limits;
  limits.max_header_bytes = kMiB;
  int64_t inflated = 0;
  absl::Status s = ReadAll(zip, ArchiveKind::kZip, limits, &inflated);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("central directory"));
  // The default takes a wheel of 10,000 files.
  entries.resize(10000);
  entries.push_back({"p-1.0.dist-info/METADATA", "Name: p\n"});
  auto m = ReadPackageManifest("p-1.0-py3-none-any.whl", BuildZip(entries));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted)
      << m.status();  // 10,001 entries: the entry cap, not the directory's
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("10000 entries"));
}

// The finding does not hold for wheels: the zip reader that uses the central
// directory skips an entry by seeking, inflating none of it.
TEST(BoundedArchiveTest, AWheelsSkippedEntriesAreNotInflated) {
  const std::string wheel = BuildZip({
      {"p/zeros.bin", std::string(64 * kMiB, '\0')},
      {"p-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: p\n"},
  });
  ArchiveLimits limits;
  limits.max_inflated_bytes = kMiB;
  auto m = ReadPackageManifest("p-1.0-py3-none-any.whl", wheel, {}, limits);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->name, "p");
  int64_t inflated = 0;
  EXPECT_TRUE(ReadAll(wheel, ArchiveKind::kZip, limits, &inflated).ok());
  EXPECT_LT(inflated, kMiB);
}

// Ordinary packages are far from every limit: a large one that compresses
// as source does (a few times) reads past the ratio's floor.
TEST(BoundedArchiveTest, OrdinaryPackagesPassTheLimits) {
  std::string source;
  uint64_t x = 88172645463325252ull;
  while (source.size() < size_t{20} << 20) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift
    absl::StrAppend(&source, "const v", x % 100000, " = require('m", x % 977,
                    "');\n");
  }
  const std::string pkg =
      TarGzBuilder()
          .File("package/dist/big.js", source)
          .File("package/package.json", R"({"name":"big","version":"1.0.0"})")
          .Finish();
  std::cout << "20 MiB of source in " << pkg.size() << " bytes\n";
  auto m = ReadPackageManifest("big-1.0.0.tgz", pkg);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->name, "big");
  for (const auto& [file, bytes] :
       {std::pair<std::string, std::string>{"a.tgz",
                                            BuildNpmTarball("a", "1", "d")},
        {"a-1.tar.gz", BuildSdist("a", "1", "d")},
        {"a-1-py3-none-any.whl", BuildWheel("a", "1", "d")}}) {
    EXPECT_TRUE(ReadPackageManifest(file, bytes).ok()) << file;
  }
}

}  // namespace
}  // namespace mcpreg::storage
