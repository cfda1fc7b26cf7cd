// The details of a refusal as gRPC carries them (grpc-status-details-bin, a
// serialized google.rpc.Status), for both sides of the ABI: the plugin SDK
// turns an absl::Status's payloads into google.rpc.Status details, and the
// host reads the one detail it acts on, RetryInfo, for REST's Retry-After.
//
// Written and read by hand, a handful of wire-format fields, rather than
// with generated google/rpc classes: every plugin built with the SDK shares
// libprotobuf's generated pool with its host, and a .proto registered twice
// in one process aborts it.
#ifndef MCPREG_PLUGIN_SDK_STATUS_DETAILS_H_
#define MCPREG_PLUGIN_SDK_STATUS_DETAILS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mcpreg {

// The type URL of google.rpc.RetryInfo, as an absl::Status payload key and
// as a google.protobuf.Any type URL alike.
inline constexpr absl::string_view kRetryInfoTypeUrl =
    "type.googleapis.com/google.rpc.RetryInfo";

// `status` saying when the caller may retry: a RetryInfo payload.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// The serialized google.rpc.Status for a failed `status`: its code, message
// and each payload as a detail (the payload key is the Any's type URL).
// Empty when `status` carries no payload, so plain refusals cost nothing.
std::string EncodeStatusDetails(const absl::Status& status);

// The RetryInfo.retry_delay in serialized google.rpc.Status `details`;
// nullopt when there is none or the bytes do not parse.
std::optional<absl::Duration> RetryDelayOf(absl::string_view details);

// Marks a RESOURCE_EXHAUSTED refusal as "the request is too large" (REST:
// 413) rather than "too many requests" (429, the default for the code):
// an empty payload under this type URL.
inline constexpr absl::string_view kTooLargeTypeUrl =
    "type.googleapis.com/mcpreg.v1.RequestTooLarge";
absl::Status AsTooLarge(absl::Status status);

// Whether serialized google.rpc.Status `details` carry that mark.
bool IsTooLarge(absl::string_view details);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SDK_STATUS_DETAILS_H_
