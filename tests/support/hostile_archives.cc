#include "tests/support/hostile_archives.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace mcpreg::testing {
namespace {

constexpr size_t kBlock = 512;
// Zeros per repeated member: compressed once, about 8 KiB.
constexpr uint64_t kZeroChunk = uint64_t{8} << 20;

la_ssize_t AppendToString(archive*, void* out, const void* data, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), n);
  return static_cast<la_ssize_t>(n);
}

// Octal, NUL-terminated, in a field of `width`; base-256 when it does not
// fit (as GNU tar writes sizes of 8 GiB and more).
void Number(char* field, size_t width, uint64_t value) {
  if (value < (uint64_t{1} << (3 * (width - 1)))) {
    snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
             static_cast<unsigned long long>(value));
    return;
  }
  memset(field, 0, width);
  field[0] = static_cast<char>(0x80);
  for (size_t i = width - 1; i > 0; --i, value >>= 8) {
    field[i] = static_cast<char>(value & 0xff);
  }
}

std::string Header(const std::string& path, uint64_t size, char type) {
  std::string h(kBlock, '\0');
  char* b = h.data();
  memcpy(b, path.data(), std::min<size_t>(path.size(), 100));
  Number(b + 100, 8, 0644);
  Number(b + 108, 8, 0);
  Number(b + 116, 8, 0);
  Number(b + 124, 12, size);
  Number(b + 136, 12, 1700000000);
  b[156] = type;
  memcpy(b + 257, "ustar", 6);
  memcpy(b + 263, "00", 2);
  memset(b + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  snprintf(b + 148, 8, "%06o", sum);
  b[155] = ' ';
  return h;
}

std::string Padding(uint64_t size) {
  return std::string((kBlock - size % kBlock) % kBlock, '\0');
}

const std::string& ZeroChunkMember() {
  static const std::string* member =
      new std::string(Gzip(std::string(kZeroChunk, '\0')));
  return *member;
}

}  // namespace

std::string Gzip(absl::string_view data) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_filter_option(a, "gzip", "timestamp", nullptr);
  archive_write_set_format_raw(a);
  // No padding after the member: zeros there would end a gzip stream.
  archive_write_set_bytes_per_block(a, 0);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, &AppendToString, nullptr);
  archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, "data");
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_write_header(a, entry);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(entry);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

void TarGzBuilder::Append(absl::string_view tar_bytes) {
  if (gzip_) {
    out_ += Gzip(tar_bytes);
  } else {
    out_.append(tar_bytes.data(), tar_bytes.size());
  }
}

TarGzBuilder& TarGzBuilder::File(const std::string& path,
                                 absl::string_view content) {
  Append(absl::StrCat(Header(path, content.size(), '0'), content,
                      Padding(content.size())));
  return *this;
}

TarGzBuilder& TarGzBuilder::Zeros(const std::string& path, uint64_t size) {
  Append(Header(path, size, '0'));
  for (uint64_t left = size / kZeroChunk; left > 0; --left) {
    if (gzip_) {
      out_ += ZeroChunkMember();
    } else {
      out_.append(kZeroChunk, '\0');
    }
  }
  const uint64_t rest = size % kZeroChunk;
  Append(std::string(rest + Padding(size).size(), '\0'));
  return *this;
}

TarGzBuilder& TarGzBuilder::Pax(const std::vector<std::string>& records) {
  std::string body;
  for (const std::string& record : records) {
    // "<length> key=value\n", the length counting its own digits.
    const size_t rest = record.size() + 2;
    size_t length = rest + 1;
    while (absl::StrCat(length).size() + rest != length) ++length;
    absl::StrAppend(&body, length, " ", record, "\n");
  }
  Append(absl::StrCat(Header("PaxHeader/entry", body.size(), 'x'), body,
                      Padding(body.size())));
  return *this;
}

std::string TarGzBuilder::Finish() {
  Append(std::string(2 * kBlock, '\0'));
  return std::move(out_);
}

namespace {

constexpr char kPackageJson[] =
    R"({"name": "bomb", "version": "1.0.0", "description": "d"})";

}  // namespace

std::string ZeroBombNpm(uint64_t zero_bytes) {
  return TarGzBuilder()
      .Zeros("package/zeros.bin", zero_bytes)
      .File("package/package.json", kPackageJson)
      .Finish();
}

std::string HoleBombNpm(uint64_t zero_bytes) {
  return TarGzBuilder()
      .Pax({absl::StrCat("SUN.holesdata= ", zero_bytes)})
      .Zeros("package/holes.bin", zero_bytes)
      .File("package/package.json", kPackageJson)
      .Finish();
}

}  // namespace mcpreg::testing
