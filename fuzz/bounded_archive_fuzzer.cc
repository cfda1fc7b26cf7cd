// The bounded archive reader takes archives anyone can upload: any bytes, as
// either kind, under small limits so that every limit is reached often,
// must be read or refused — never crash, hang or inflate past a limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "storage/repo/bounded_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mcpreg::storage::ArchiveKind;
  using mcpreg::storage::ArchiveLimits;
  using mcpreg::storage::BoundedArchiveReader;
  if (size < 2) return 0;
  // First byte: the kind, and whether entries are read or skipped; second:
  // how small the limits are.
  const ArchiveKind kind =
      (data[0] & 1) ? ArchiveKind::kZip : ArchiveKind::kTarGz;
  const bool read = data[0] & 2;
  ArchiveLimits limits;
  limits.max_entries = 1 + data[1] % 64;
  limits.max_inflated_bytes = int64_t{1} << (16 + data[1] % 8);  // 64 KiB..
  limits.ratio_floor_bytes = int64_t{1} << (12 + data[1] % 8);
  limits.max_ratio = 2 + data[1] % 200;
  const std::string bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  auto reader = BoundedArchiveReader::Open(
      bytes, kind, mcpreg::storage::CallDeadline(), limits);
  if (!reader.ok()) return 0;
  for (;;) {
    auto entry = (*reader)->Next();
    // Past a limit by at most what one block of input inflates to.
    if ((*reader)->inflated_bytes() >
        limits.max_inflated_bytes + (int64_t{64} << 20)) {
      abort();
    }
    if (!entry.ok() || !entry->has_value()) break;
    if (read && !(*reader)->ReadContent(4096).ok()) break;
  }
  return 0;
}
