#include "host/rest_errors.h"

#include <httplib.h>

#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "host/plugin_call.h"
#include "plugin/sdk/abi_status.h"
#include "plugin/sdk/status_details.h"

namespace mcpreg::host {
namespace {

// Indexed by status code (mcpreg_status_code).
constexpr const char* kCodeNames[] = {"OK",
                                      "CANCELLED",
                                      "UNKNOWN",
                                      "INVALID_ARGUMENT",
                                      "DEADLINE_EXCEEDED",
                                      "NOT_FOUND",
                                      "ALREADY_EXISTS",
                                      "PERMISSION_DENIED",
                                      "RESOURCE_EXHAUSTED",
                                      "FAILED_PRECONDITION",
                                      "ABORTED",
                                      "OUT_OF_RANGE",
                                      "UNIMPLEMENTED",
                                      "INTERNAL",
                                      "UNAVAILABLE",
                                      "DATA_LOSS",
                                      "UNAUTHENTICATED"};

// A google.protobuf.Duration in its JSON form: "3s", "1.500000000s".
std::string DurationJson(absl::Duration d) {
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  return nanos == 0 ? absl::StrCat(seconds, "s")
                    : absl::StrFormat("%d.%09ds", seconds, nanos);
}

std::string ErrorJsonWithRetry(int code, const std::string& message,
                               std::optional<absl::Duration> retry_delay,
                               bool npm_error = false) {
  google::protobuf::Struct error;
  auto& f = *error.mutable_fields();
  f["code"].set_string_value(GrpcCodeName(code));
  f["message"].set_string_value(message);
  // npm prints a refusal's `error`, never its `message`.
  if (npm_error) f["error"].set_string_value(message);
  auto& details = *f["details"].mutable_list_value();
  if (retry_delay.has_value()) {
    auto& retry =
        *details.add_values()->mutable_struct_value()->mutable_fields();
    retry["@type"].set_string_value(std::string(kRetryInfoTypeUrl));
    retry["retryDelay"].set_string_value(DurationJson(*retry_delay));
  }
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(error, &json);
  return json;
}

}  // namespace

const char* GrpcCodeName(int code) { return kCodeNames[ClampAbiCode(code)]; }

int HttpStatusForGrpcCode(int code) {
  switch (code) {
    case MCPREG_STATUS_OK:
      return 200;
    case MCPREG_STATUS_CANCELLED:
      return 499;
    case MCPREG_STATUS_INVALID_ARGUMENT:
      return 400;
    case MCPREG_STATUS_DEADLINE_EXCEEDED:
      return 504;
    case MCPREG_STATUS_NOT_FOUND:
      return 404;
    case MCPREG_STATUS_ALREADY_EXISTS:
      return 409;
    case MCPREG_STATUS_PERMISSION_DENIED:
      return 403;
    case MCPREG_STATUS_RESOURCE_EXHAUSTED:
      return 429;
    case MCPREG_STATUS_FAILED_PRECONDITION:
      return 412;
    case MCPREG_STATUS_ABORTED:
      return 409;
    case MCPREG_STATUS_OUT_OF_RANGE:
      return 400;
    case MCPREG_STATUS_UNIMPLEMENTED:
      return 501;
    case MCPREG_STATUS_UNAVAILABLE:
      return 503;
    case MCPREG_STATUS_UNAUTHENTICATED:
      return 401;
    default:
      return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

std::string ErrorJson(int code, const std::string& message) {
  return ErrorJsonWithRetry(code, message, std::nullopt);
}

void SendError(httplib::Response& res, int code, const std::string& message,
               int http_status) {
  res.status = http_status != 0 ? http_status : HttpStatusForGrpcCode(code);
  res.set_content(ErrorJson(code, message), "application/json");
}

void SendPluginError(httplib::Response& res, const PluginReply& reply,
                     bool raw_route) {
  std::optional<absl::Duration> retry_delay;
  if (!reply.details.empty()) retry_delay = RetryDelayOf(reply.details);
  if (retry_delay.has_value() && *retry_delay < absl::ZeroDuration()) {
    retry_delay.reset();  // not a delay anyone can wait
  }
  res.status = HttpStatusForGrpcCode(reply.code);
  // RESOURCE_EXHAUSTED is "too many requests" (429: a rate limit, a full
  // queue) unless the plugin marked it as a request too large (413: a
  // package or artifact past its limit).
  if (reply.code == MCPREG_STATUS_RESOURCE_EXHAUSTED && !retry_delay &&
      IsTooLarge(reply.details)) {
    res.status = 413;
  }
  res.set_content(
      ErrorJsonWithRetry(reply.code, reply.message, retry_delay, raw_route),
      "application/json");
  if (retry_delay.has_value()) {
    res.set_header("Retry-After", absl::StrCat(static_cast<int64_t>(std::ceil(
                                      absl::ToDoubleSeconds(*retry_delay)))));
  }
}

}  // namespace mcpreg::host
