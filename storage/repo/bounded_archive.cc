#include "storage/repo/bounded_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace mcpreg::storage {
namespace {

// Compressed bytes handed to libarchive at a time. Deflate inflates a block
// at most 1032 times, so a limit is checked at least every ~16 MiB of
// inflation even where libarchive inflates without returning to us.
constexpr size_t kSourceBlockBytes = 16 << 10;

absl::Status NotAnArchive(absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("is not a readable npm or PyPI package: ", why));
}

std::string MiB(int64_t bytes) { return absl::StrCat(bytes >> 20, " MiB"); }

}  // namespace

// The bytes, fed to libarchive a block at a time; before each block the
// reader's limits are checked, and a refusal ends libarchive's read.
class BoundedArchiveReader::Source {
 public:
  Source(BoundedArchiveReader* reader, absl::string_view bytes)
      : reader_(reader), bytes_(bytes) {}

  static la_ssize_t Read(archive*, void* data, const void** buffer) {
    auto* self = static_cast<Source*>(data);
    *buffer = nullptr;
    if (absl::Status s = self->reader_->CheckLimits(); !s.ok()) {
      self->reader_->stopped_ = std::move(s);
      return ARCHIVE_FATAL;
    }
    if (absl::Status s = self->reader_->CheckHeaderInput(self->delivered_);
        !s.ok()) {
      self->reader_->stopped_ = std::move(s);
      return ARCHIVE_FATAL;
    }
    const size_t n = std::min(kSourceBlockBytes, self->Remaining());
    *buffer = self->bytes_.data() + self->offset_;
    self->offset_ += n;
    self->delivered_ += static_cast<int64_t>(n);
    return static_cast<la_ssize_t>(n);
  }

  int64_t delivered() const { return delivered_; }

  static la_int64_t Skip(archive*, void* data, la_int64_t request) {
    auto* self = static_cast<Source*>(data);
    if (request <= 0) return 0;
    const size_t n = std::min(static_cast<uint64_t>(request),
                              static_cast<uint64_t>(self->Remaining()));
    self->offset_ += n;
    return static_cast<la_int64_t>(n);
  }

  static la_int64_t Seek(archive*, void* data, la_int64_t offset, int whence) {
    auto* self = static_cast<Source*>(data);
    const int64_t size = static_cast<int64_t>(self->bytes_.size());
    int64_t base = 0;
    switch (whence) {
      case SEEK_SET:
        base = 0;
        break;
      case SEEK_CUR:
        base = static_cast<int64_t>(self->offset_);
        break;
      case SEEK_END:
        base = size;
        break;
      default:
        return ARCHIVE_FATAL;
    }
    if (offset < -base || offset > size - base) return ARCHIVE_FATAL;
    self->offset_ = static_cast<size_t>(base + offset);
    return static_cast<la_int64_t>(self->offset_);
  }

 private:
  size_t Remaining() const { return bytes_.size() - offset_; }

  BoundedArchiveReader* const reader_;
  const absl::string_view bytes_;
  size_t offset_ = 0;
  int64_t delivered_ = 0;  // bytes handed to libarchive, seeks aside
};

BoundedArchiveReader::BoundedArchiveReader(absl::string_view bytes,
                                           ArchiveKind kind,
                                           CallDeadline deadline,
                                           ArchiveLimits limits)
    : kind_(kind),
      deadline_(std::move(deadline)),
      limits_(limits),
      source_(std::make_unique<Source>(this, bytes)) {}

BoundedArchiveReader::~BoundedArchiveReader() {
  if (archive_ != nullptr) archive_read_free(archive_);
}

absl::StatusOr<std::unique_ptr<BoundedArchiveReader>>
BoundedArchiveReader::Open(absl::string_view bytes, ArchiveKind kind,
                           CallDeadline deadline, ArchiveLimits limits) {
  std::unique_ptr<BoundedArchiveReader> reader(
      new BoundedArchiveReader(bytes, kind, std::move(deadline), limits));
  if (absl::Status s = reader->OpenArchive(); !s.ok()) return s;
  return reader;
}

absl::Status BoundedArchiveReader::OpenArchive() {
  archive_ = archive_read_new();
  if (archive_ == nullptr) return absl::ResourceExhaustedError("out of memory");
  // Gzip is the only filter: nothing else belongs in these packages, and a
  // gzip layer more than expected is refused below, after bidding.
  archive_read_support_filter_gzip(archive_);
  if (kind_ == ArchiveKind::kTarGz) {
    archive_read_support_format_tar(archive_);
  } else {
    // Only the reader that uses the central directory: it skips an entry by
    // seeking, where the streaming one inflates it.
    archive_read_support_format_zip_seekable(archive_);
  }
  // Takes whatever the others refuse, so that opening succeeds whenever the
  // filters do and the layers can be counted (two gzip layers are not a tar
  // to the tar reader); Next refuses it.
  archive_read_support_format_raw(archive_);
  archive_read_set_read_callback(archive_, &Source::Read);
  archive_read_set_skip_callback(archive_, &Source::Skip);
  archive_read_set_seek_callback(archive_, &Source::Seek);
  archive_read_set_callback_data(archive_, source_.get());
  header_started_at_ = source_->delivered();
  const int opened = archive_read_open1(archive_);
  header_started_at_.reset();
  if (opened != ARCHIVE_OK) return Failure();

  int gzip_layers = 0;
  for (int i = 0; i < archive_filter_count(archive_); ++i) {
    if (archive_filter_code(archive_, i) == ARCHIVE_FILTER_GZIP) ++gzip_layers;
  }
  const int expected = kind_ == ArchiveKind::kTarGz ? 1 : 0;
  if (gzip_layers != expected) {
    return NotAnArchive(
        kind_ == ArchiveKind::kTarGz
            ? absl::StrCat("a .tgz or .tar.gz is one gzip layer over a tar; "
                           "this one has ",
                           gzip_layers, " gzip layers")
            : absl::StrCat("a .whl or .zip is a zip with no outer "
                           "compression; this one has ",
                           gzip_layers, " gzip layers"));
  }
  return absl::OkStatus();
}

int64_t BoundedArchiveReader::inflated_bytes() const {
  // With a gzip layer, filter 0's position is every byte the tar reader has
  // taken from it, headers included; without, what we were returned.
  int64_t inflated = data_bytes_;
  if (archive_ != nullptr && archive_filter_count(archive_) > 1) {
    inflated = std::max<int64_t>(inflated, archive_filter_bytes(archive_, 0));
  }
  return inflated;
}

int64_t BoundedArchiveReader::compressed_bytes() const {
  return archive_ == nullptr ? 0 : archive_filter_bytes(archive_, -1);
}

absl::Status BoundedArchiveReader::CheckLimits() {
  const int64_t inflated = inflated_bytes();
  if (inflated > limits_.max_inflated_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the package inflates to more than ", MiB(limits_.max_inflated_bytes),
        ", the most reading its manifest may inflate"));
  }
  const int64_t compressed = std::max<int64_t>(compressed_bytes(), 1);
  if (inflated > limits_.ratio_floor_bytes &&
      inflated > limits_.max_ratio * compressed) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the package inflates more than ", limits_.max_ratio,
        " times its compressed size (", MiB(inflated), " from ", compressed,
        " bytes); past the first ", MiB(limits_.ratio_floor_bytes),
        " no package may inflate more than that"));
  }
  return deadline_.Check("reading the package");
}

absl::Status BoundedArchiveReader::CheckHeaderInput(int64_t delivered) const {
  if (header_started_at_.has_value() &&
      delivered - *header_started_at_ > limits_.max_header_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the package's headers take more than ", MiB(limits_.max_header_bytes),
        " in one piece (a zip's central directory, a tar's extended headers)"));
  }
  return absl::OkStatus();
}

absl::Status BoundedArchiveReader::Failure() {
  if (!stopped_.ok()) return stopped_;
  if (absl::Status s = CheckLimits(); !s.ok()) return s;
  const char* why = archive_error_string(archive_);
  return NotAnArchive(why != nullptr ? why : "unrecognised archive format");
}

absl::Status BoundedArchiveReader::SkipContent() {
  in_entry_ = false;
  if (kind_ == ArchiveKind::kZip) {
    // The seeking zip reader skips without reading: nothing to bound.
    return archive_read_data_skip(archive_) == ARCHIVE_OK ? CheckLimits()
                                                          : Failure();
  }
  for (;;) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    const int rc = archive_read_data_block(archive_, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) return CheckLimits();
    if (rc < ARCHIVE_WARN) return Failure();
    data_bytes_ += static_cast<int64_t>(size);
    if (absl::Status s = CheckLimits(); !s.ok()) return s;
  }
}

absl::StatusOr<std::optional<ArchiveEntryHeader>> BoundedArchiveReader::Next() {
  if (!stopped_.ok()) return stopped_;
  if (in_entry_) {
    if (absl::Status s = SkipContent(); !s.ok()) return s;
  }
  if (entries_ >= limits_.max_entries) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the package has more than ", limits_.max_entries,
                     " entries before its manifest (the most looked at)"));
  }
  archive_entry* entry = nullptr;
  header_started_at_ = source_->delivered();
  const int rc = archive_read_next_header(archive_, &entry);
  header_started_at_.reset();
  if (rc == ARCHIVE_EOF) return std::nullopt;
  if (rc < ARCHIVE_WARN) return Failure();
  // Header records (pax, long names) are inflated inside that call.
  if (absl::Status s = CheckLimits(); !s.ok()) return s;
  if (entries_ == 0) {
    const int format = archive_format(archive_) & ARCHIVE_FORMAT_BASE_MASK;
    if (kind_ == ArchiveKind::kTarGz && format != ARCHIVE_FORMAT_TAR) {
      return NotAnArchive("there is no tar archive inside its gzip layer");
    }
    if (kind_ == ArchiveKind::kZip && format != ARCHIVE_FORMAT_ZIP) {
      return NotAnArchive("it is not a zip archive");
    }
  }
  ++entries_;
  in_entry_ = true;
  const char* path = archive_entry_pathname(entry);
  current_path_ = path == nullptr ? "" : path;
  return ArchiveEntryHeader{current_path_,
                            archive_entry_filetype(entry) == AE_IFREG};
}

absl::StatusOr<std::string> BoundedArchiveReader::ReadContent(
    size_t max_bytes) {
  if (!in_entry_) return absl::FailedPreconditionError("no current entry");
  in_entry_ = false;
  std::string content;
  char buffer[16 << 10];
  for (;;) {
    const la_ssize_t n = archive_read_data(archive_, buffer, sizeof(buffer));
    if (n < 0) return Failure();
    if (n == 0) return content;
    data_bytes_ += n;
    if (absl::Status s = CheckLimits(); !s.ok()) return s;
    if (content.size() + static_cast<size_t>(n) > max_bytes) {
      return NotAnArchive(
          absl::StrCat(current_path_, " is larger than ", max_bytes, " bytes"));
    }
    content.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace mcpreg::storage
