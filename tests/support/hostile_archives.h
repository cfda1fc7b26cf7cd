// Hostile package archives for tests, built in bounded time and memory:
// gigabytes of zeros are a gzip member of one zero chunk, compressed once and
// repeated (gzip readers inflate concatenated members as one stream), so a
// 4 GiB bomb costs a few MB and a few milliseconds to make.
#ifndef MCPREG_TESTS_SUPPORT_HOSTILE_ARCHIVES_H_
#define MCPREG_TESTS_SUPPORT_HOSTILE_ARCHIVES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mcpreg::testing {

// One gzip member holding `data` (deterministic: no timestamp).
std::string Gzip(absl::string_view data);

// A gzip-compressed ustar archive written entry by entry (a plain tar when
// `gzip` is false).
class TarGzBuilder {
 public:
  explicit TarGzBuilder(bool gzip = true) : gzip_(gzip) {}

  // A regular file with `content`.
  TarGzBuilder& File(const std::string& path, absl::string_view content);
  // A regular file of `size` zero bytes (a multiple of 512 stays cheapest).
  TarGzBuilder& Zeros(const std::string& path, uint64_t size);
  // A pax extended header ('x') holding `records` ("key=value" each, without
  // the length prefix), applying to the next entry.
  TarGzBuilder& Pax(const std::vector<std::string>& records);
  // Ends the archive (two zero blocks) and returns its bytes.
  std::string Finish();

 private:
  void Append(absl::string_view tar_bytes);  // compressed as its own member
  const bool gzip_;
  std::string out_;
};

// An npm tarball whose `package/package.json` comes after an entry of
// `zero_bytes` zeros: what skipping that entry inflates.
std::string ZeroBombNpm(uint64_t zero_bytes);

// The same, with the first entry's body declared a hole by a Solaris
// sparse map (pax `SUN.holesdata`): libarchive skips a hole inside one
// read call, where the caller never sees a block.
std::string HoleBombNpm(uint64_t zero_bytes);

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_HOSTILE_ARCHIVES_H_
