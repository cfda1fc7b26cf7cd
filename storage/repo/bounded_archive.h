// Reads the entries of an archive anyone could have uploaded, with every cost
// bounded: how many layers of compression, how many entries, how many bytes
// it may inflate in all and relative to its compressed size, and how long.
//
// libarchive alone bounds none of these: it stacks as many gzip layers as it
// finds, and skipping an entry of a compressed tar inflates the entry's
// whole body inside one archive_read_next_header call, where no caller can
// look at a clock. Here a skipped entry is drained by our own loop, block
// by block, and the compressed bytes reach libarchive through a callback
// that checks the same limits, so even inflation inside libarchive (header
// records, sparse data) stops within one small block of a limit.
#ifndef MCPREG_STORAGE_REPO_BOUNDED_ARCHIVE_H_
#define MCPREG_STORAGE_REPO_BOUNDED_ARCHIVE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/repo/call_deadline.h"

struct archive;

namespace mcpreg::storage {

// What the bytes must be. Anything else is FAILED_PRECONDITION.
enum class ArchiveKind {
  kTarGz,  // exactly one gzip layer over a tar (npm .tgz, sdist .tar.gz)
  kZip,    // a zip with its central directory, no outer layer (.whl, .zip)
};

struct ArchiveLimits {
  // Entries looked at, skipped ones included.
  int max_entries = 10000;
  // Bytes inflated in all: entry bodies, skipped or read, and tar headers.
  int64_t max_inflated_bytes = int64_t{512} << 20;
  // Past `ratio_floor_bytes` inflated, at most `max_ratio` times the
  // compressed bytes consumed so far. Real packages inflate 3-10 times;
  // deflate can reach 1032, and a run of zeros does.
  int64_t ratio_floor_bytes = int64_t{16} << 20;
  int64_t max_ratio = 200;
  // Input taken by opening the archive or by one entry's header. A zip's
  // central directory is read whole with its first header, one allocation
  // per record: 4 MiB is some 90,000 records at most, where a wheel of
  // 10,000 files has about 1.5 MB.
  int64_t max_header_bytes = int64_t{4} << 20;
};

// The part of an entry's header a reader decides on.
struct ArchiveEntryHeader {
  std::string path;  // as stored; "" when it has none
  bool is_regular_file = false;
};

// Refusals, each with a message that can follow a field path
// ("repoArtifactInfo.repoPath: "):
//   FAILED_PRECONDITION  not an archive of the expected kind (other than
//                        exactly the expected compression layers included)
//   RESOURCE_EXHAUSTED   over one of the limits, which the message names
//   DEADLINE_EXCEEDED, CANCELLED  from the CallDeadline
// Not thread-safe; one reader per call. `bytes` must outlive the reader.
class BoundedArchiveReader {
 public:
  static absl::StatusOr<std::unique_ptr<BoundedArchiveReader>> Open(
      absl::string_view bytes, ArchiveKind kind, CallDeadline deadline,
      ArchiveLimits limits = {});
  ~BoundedArchiveReader();
  BoundedArchiveReader(const BoundedArchiveReader&) = delete;
  BoundedArchiveReader& operator=(const BoundedArchiveReader&) = delete;

  // The next entry, after skipping what is left of the current one;
  // nullopt at the end of the archive.
  absl::StatusOr<std::optional<ArchiveEntryHeader>> Next();

  // The current entry's content. FAILED_PRECONDITION when it holds more
  // than `max_bytes`.
  absl::StatusOr<std::string> ReadContent(size_t max_bytes);

  // Bytes inflated so far, and compressed bytes consumed so far.
  int64_t inflated_bytes() const;
  int64_t compressed_bytes() const;

 private:
  class Source;  // feeds libarchive the bytes and checks the limits
  BoundedArchiveReader(absl::string_view bytes, ArchiveKind kind,
                       CallDeadline deadline, ArchiveLimits limits);

  absl::Status OpenArchive();
  // OK, or why reading must stop now: a limit or the deadline.
  absl::Status CheckLimits();
  // OK unless the header being read has taken more than its limit of input
  // (`delivered` in all so far).
  absl::Status CheckHeaderInput(int64_t delivered) const;
  // The error to report after libarchive failed: ours when a limit stopped
  // it (through the source), libarchive's otherwise.
  absl::Status Failure();
  // Drains the current entry's body, block by block.
  absl::Status SkipContent();

  const ArchiveKind kind_;
  const CallDeadline deadline_;
  const ArchiveLimits limits_;
  std::unique_ptr<Source> source_;
  archive* archive_ = nullptr;
  bool in_entry_ = false;  // a header was returned and its body not drained
  int entries_ = 0;
  // While libarchive opens the archive or reads a header: the input it had
  // been handed when it began.
  std::optional<int64_t> header_started_at_;
  int64_t data_bytes_ = 0;  // entry bodies returned to us
  std::string current_path_;
  absl::Status stopped_;  // why the source refused more bytes, if it did
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_BOUNDED_ARCHIVE_H_
