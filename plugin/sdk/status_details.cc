#include "plugin/sdk/status_details.h"

#include <cstdint>

#include "absl/strings/cord.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"

namespace mcpreg {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;

// Field numbers, from google/rpc/status.proto, google/protobuf/any.proto,
// google/rpc/error_details.proto and google/protobuf/duration.proto.
constexpr int kStatusCode = 1, kStatusMessage = 2, kStatusDetails = 3;
constexpr int kAnyTypeUrl = 1, kAnyValue = 2;
constexpr int kRetryInfoDelay = 1;
constexpr int kDurationSeconds = 1, kDurationNanos = 2;

void WriteBytes(CodedOutputStream& out, int field, absl::string_view bytes) {
  WireFormatLite::WriteTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED,
                           &out);
  out.WriteVarint32(static_cast<uint32_t>(bytes.size()));
  out.WriteRaw(bytes.data(), static_cast<int>(bytes.size()));
}

template <typename Write>
std::string Serialize(Write write) {
  std::string bytes;
  {
    StringOutputStream stream(&bytes);
    CodedOutputStream out(&stream);
    write(out);
  }
  return bytes;
}

// Calls `field(number, bytes)` for each length-delimited field of the
// message in `bytes` and `varint(number, value)` for each varint; false
// when the bytes are not a message.
template <typename OnBytes, typename OnVarint>
bool ForEachField(absl::string_view bytes, OnBytes field, OnVarint varint) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  while (const uint32_t tag = in.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    switch (WireFormatLite::GetTagWireType(tag)) {
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
        uint32_t size = 0;
        std::string value;
        if (!in.ReadVarint32(&size) ||
            !in.ReadString(&value, static_cast<int>(size))) {
          return false;
        }
        field(number, absl::string_view(value));
        break;
      }
      case WireFormatLite::WIRETYPE_VARINT: {
        uint64_t value = 0;
        if (!in.ReadVarint64(&value)) return false;
        varint(number, value);
        break;
      }
      default:
        if (!WireFormatLite::SkipField(&in, tag)) return false;
    }
  }
  return in.ConsumedEntireMessage();
}

constexpr auto kIgnoreVarint = [](int, uint64_t) {};
constexpr auto kIgnoreBytes = [](int, absl::string_view) {};

std::optional<absl::Duration> DecodeRetryInfo(absl::string_view bytes) {
  std::optional<absl::Duration> delay;
  const bool parsed = ForEachField(
      bytes,
      [&](int number, absl::string_view duration) {
        if (number != kRetryInfoDelay) return;
        int64_t seconds = 0, nanos = 0;
        if (ForEachField(duration, kIgnoreBytes, [&](int n, uint64_t value) {
              if (n == kDurationSeconds) {
                seconds = static_cast<int64_t>(value);
              }
              if (n == kDurationNanos) {
                nanos = static_cast<int32_t>(value);
              }
            })) {
          delay = absl::Seconds(seconds) + absl::Nanoseconds(nanos);
        }
      },
      kIgnoreVarint);
  if (!parsed) return std::nullopt;
  return delay;
}

}  // namespace

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  const int64_t seconds = absl::IDivDuration(delay, absl::Seconds(1), &delay);
  const int32_t nanos = static_cast<int32_t>(absl::ToInt64Nanoseconds(delay));
  const std::string duration = Serialize([&](CodedOutputStream& out) {
    if (seconds != 0)
      WireFormatLite::WriteInt64(kDurationSeconds, seconds, &out);
    if (nanos != 0) WireFormatLite::WriteInt32(kDurationNanos, nanos, &out);
  });
  status.SetPayload(kRetryInfoTypeUrl,
                    absl::Cord(Serialize([&](CodedOutputStream& out) {
                      WriteBytes(out, kRetryInfoDelay, duration);
                    })));
  return status;
}

std::string EncodeStatusDetails(const absl::Status& status) {
  bool any = false;
  status.ForEachPayload(
      [&](absl::string_view, const absl::Cord&) { any = true; });
  if (status.ok() || !any) return "";
  return Serialize([&](CodedOutputStream& out) {
    WireFormatLite::WriteInt32(kStatusCode, static_cast<int>(status.code()),
                               &out);
    WriteBytes(out, kStatusMessage, status.message());
    status.ForEachPayload([&](absl::string_view type_url,
                              const absl::Cord& value) {
      WriteBytes(out, kStatusDetails, Serialize([&](CodedOutputStream& any) {
                   WriteBytes(any, kAnyTypeUrl, type_url);
                   WriteBytes(any, kAnyValue, std::string(value));
                 }));
    });
  });
}

std::optional<absl::Duration> RetryDelayOf(absl::string_view details) {
  std::optional<absl::Duration> delay;
  const bool parsed = ForEachField(
      details,
      [&](int number, absl::string_view any) {
        if (number != kStatusDetails) return;
        std::string type_url, value;
        ForEachField(
            any,
            [&](int n, absl::string_view bytes) {
              if (n == kAnyTypeUrl) type_url = std::string(bytes);
              if (n == kAnyValue) value = std::string(bytes);
            },
            kIgnoreVarint);
        if (type_url == kRetryInfoTypeUrl) delay = DecodeRetryInfo(value);
      },
      kIgnoreVarint);
  if (!parsed) return std::nullopt;
  return delay;
}

absl::Status AsTooLarge(absl::Status status) {
  status.SetPayload(kTooLargeTypeUrl, absl::Cord());
  return status;
}

bool IsTooLarge(absl::string_view details) {
  bool found = false;
  ForEachField(
      details,
      [&](int number, absl::string_view any) {
        if (number != kStatusDetails) return;
        ForEachField(
            any,
            [&](int n, absl::string_view bytes) {
              if (n == kAnyTypeUrl && bytes == kTooLargeTypeUrl) found = true;
            },
            kIgnoreVarint);
      },
      kIgnoreVarint);
  return found;
}

}  // namespace mcpreg
