// The host-callback storage backend against a fake host table: a size the
// host reports is checked before anything is read, a host that hands out
// more than it reported is cut off, and reading through a slow host stops
// at the call's deadline.
#include "storage/repo/host_repository_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "absl/time/clock.h"

namespace mcpreg::storage {
namespace {

using ::testing::HasSubstr;

// One artifact of `size` zero bytes, which the host reports as `reported`
// bytes long and hands out `per_read` bytes at a time, sleeping `delay`
// before each.
struct FakeHost {
  uint64_t size = 0;
  uint64_t reported = 0;
  absl::Duration delay;
  size_t overstate = 0;  // added to what each read says it wrote
  std::atomic<int> reads{0};

  static int32_t GetRepository(void*, mcpreg_str, mcpreg_repository_info*) {
    return MCPREG_STATUS_OK;
  }
  static int32_t Stat(void* ctx, mcpreg_str, mcpreg_str,
                      mcpreg_artifact_stat* stat) {
    auto* self = static_cast<FakeHost*>(ctx);
    stat->is_regular_file = 1;
    stat->size_bytes = self->reported;
    stat->sha256_hex[0] = '\0';  // unknown: the plugin hashes
    return MCPREG_STATUS_OK;
  }
  static int32_t Read(void* ctx, mcpreg_str, mcpreg_str, uint64_t offset,
                      uint8_t* buffer, size_t capacity, size_t* bytes_read) {
    auto* self = static_cast<FakeHost*>(ctx);
    ++self->reads;
    absl::SleepFor(self->delay);
    const uint64_t n = offset >= self->size
                           ? 0
                           : std::min<uint64_t>(capacity, self->size - offset);
    memset(buffer, 0, n);
    *bytes_read = n + self->overstate;
    return MCPREG_STATUS_OK;
  }
};

class HostRepositoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.struct_size = sizeof(api_);
    api_.abi_major = MCPREG_ABI_MAJOR;
    api_.abi_minor = MCPREG_ABI_MINOR;
    api_.host_ctx_host_ptr = &host_;
    api_.get_repository = &FakeHost::GetRepository;
    api_.stat_artifact = &FakeHost::Stat;
    api_.read_artifact = &FakeHost::Read;
    ASSERT_TRUE(HostHasStorage(&api_));
    store_ = NewHostRepositoryStore(&api_);
  }

  FakeHost host_;
  mcpreg_host_api api_{};
  std::unique_ptr<RepositoryStore> store_;
};

TEST_F(HostRepositoryStoreTest, AReportedSizeOverTheLimitIsNeverRead) {
  host_.size = host_.reported = uint64_t{1} << 30;
  auto stat = store_->StatArtifact("r", "big.tgz", 64 << 20, {});
  EXPECT_EQ(stat.status().code(), absl::StatusCode::kResourceExhausted)
      << stat.status();
  EXPECT_EQ(host_.reads.load(), 0);
}

TEST_F(HostRepositoryStoreTest, AHostThatHandsOutMoreThanItReportedIsCutOff) {
  host_.size = uint64_t{1} << 30;
  host_.reported = 1000;
  auto stat = store_->StatArtifact("r", "liar.tgz", 1 << 20, {});
  EXPECT_EQ(stat.status().code(), absl::StatusCode::kResourceExhausted)
      << stat.status();
  EXPECT_THAT(std::string(stat.status().message()), HasSubstr("larger than"));
  EXPECT_LE(host_.reads.load(), 17);  // 1 MiB in 64 KiB chunks, and one more
  auto read = store_->ReadArtifact("r", "liar.tgz", 1 << 20, {});
  EXPECT_EQ(read.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(HostRepositoryStoreTest, ReadingThroughASlowHostStopsAtTheDeadline) {
  host_.size = host_.reported = uint64_t{64} << 20;  // 1024 reads of 64 KiB
  host_.delay = absl::Milliseconds(5);
  auto stat = store_->StatArtifact(
      "r", "slow.tgz", std::numeric_limits<uint64_t>::max(),
      CallDeadline(absl::Now() + absl::Milliseconds(100)));
  EXPECT_EQ(stat.status().code(), absl::StatusCode::kDeadlineExceeded)
      << stat.status();
  EXPECT_LT(host_.reads.load(), 1024);
  host_.reads = 0;
  auto read =
      store_->ReadArtifact("r", "slow.tgz", size_t{64} << 20,
                           CallDeadline(absl::Now() + absl::Milliseconds(100)));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDeadlineExceeded)
      << read.status();
  EXPECT_LT(host_.reads.load(), 1024);
}

TEST_F(HostRepositoryStoreTest, AHostClaimingMoreThanTheRoomItGotIsRefused) {
  host_.size = host_.reported = 100000;
  host_.overstate = 1;
  auto stat = store_->StatArtifact("r", "broken.tgz", 1 << 20, {});
  EXPECT_EQ(stat.status().code(), absl::StatusCode::kInternal) << stat.status();
  EXPECT_THAT(std::string(stat.status().message()), HasSubstr("bytes of room"));
  auto read = store_->ReadArtifact("r", "broken.tgz", 1 << 20, {});
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInternal) << read.status();
  auto range = store_->ReadArtifactRange("r", "broken.tgz", 0, 4096);
  EXPECT_EQ(range.status().code(), absl::StatusCode::kInternal)
      << range.status();
}

}  // namespace
}  // namespace mcpreg::storage
