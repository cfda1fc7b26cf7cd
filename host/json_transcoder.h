// JSON <-> protobuf for the REST gateway, from the plugin's descriptors only:
// a request is assembled from the body (per the route's `body`), the path
// variables and the query parameters; a response is printed with the
// protobuf JSON mapping. Errors say where the input is wrong.
#ifndef MCPREG_HOST_JSON_TRANSCODER_H_
#define MCPREG_HOST_JSON_TRANSCODER_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/dynamic_message.h"
#include "host/http_routes.h"

namespace mcpreg::host {

class JsonTranscoder {
 public:
  explicit JsonTranscoder(const google::protobuf::DescriptorPool& pool)
      : factory_(&pool) {}

  // The serialized request message. INVALID_ARGUMENT names the body position,
  // the unknown field or the query parameter at fault.
  // A route whose body is a google.api.HttpBody takes `body` unparsed, with
  // `content_type`, and ignores query parameters that name no field (npm
  // and pip add their own).
  absl::StatusOr<std::string> Request(
      const RouteMatch& match, const std::string& body,
      const std::multimap<std::string, std::string>& query,
      const std::string& content_type = "");

  // The response message as JSON (every field printed, defaults included).
  absl::StatusOr<std::string> ResponseJson(const HttpRoute& route,
                                           const std::string& bytes);

  struct RawBody {
    std::string content_type;
    std::string data;
  };
  // A google.api.HttpBody response (route.raw_response): its bytes as sent.
  static absl::StatusOr<RawBody> ResponseRaw(const HttpRoute& route,
                                             const std::string& bytes);

 private:
  google::protobuf::DynamicMessageFactory factory_;  // thread-safe
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_JSON_TRANSCODER_H_
