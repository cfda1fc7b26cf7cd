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
  absl::StatusOr<std::string> Request(
      const RouteMatch& match, const std::string& body,
      const std::multimap<std::string, std::string>& query);

  // The response message as JSON (every field printed, defaults included).
  absl::StatusOr<std::string> ResponseJson(const HttpRoute& route,
                                           const std::string& bytes);

 private:
  google::protobuf::DynamicMessageFactory factory_;  // thread-safe
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_JSON_TRANSCODER_H_
