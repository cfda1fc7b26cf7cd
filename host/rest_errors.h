// How the REST gateway answers a refusal: the JSON form of google.rpc.Status
// ({code, message, details}, as grpc-gateway writes it) with the HTTP status
// the design's error table gives each gRPC code, and Retry-After when the
// plugin said when to retry.
#ifndef MCPREG_HOST_REST_ERRORS_H_
#define MCPREG_HOST_REST_ERRORS_H_

#include <string>

namespace httplib {
struct Response;
}

namespace mcpreg::host {

struct PluginReply;

// HTTP status for a gRPC status code.
int HttpStatusForGrpcCode(int code);
// "NOT_FOUND" for 5; "UNKNOWN" for a code out of range.
const char* GrpcCodeName(int code);

// {"code": "NOT_FOUND", "message": ..., "details": []}.
std::string ErrorJson(int code, const std::string& message);

// Answers `res` with that body, and `http_status` (0: the code's own).
void SendError(httplib::Response& res, int code, const std::string& message,
               int http_status = 0);

// Answers `res` with the plugin's refusal. A google.rpc.RetryInfo among its
// details appears in the body's details and as a Retry-After header (whole
// seconds, rounded up); other details stay gRPC's. A `raw_route`'s refusal
// (google.api.HttpBody: the npm and PyPI endpoints) repeats its message as
// `error`, which is what npm prints.
void SendPluginError(httplib::Response& res, const PluginReply& reply,
                     bool raw_route = false);

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_REST_ERRORS_H_
