// REST routes read from the plugin's descriptors: each method's
// `google.api.http` option (verb, path template, body) as declared in the
// proto. The host compiles none of the plugin's protos; it reads the option's
// bytes out of the descriptor set and decodes them dynamically.
#ifndef MCPREG_HOST_HTTP_ROUTES_H_
#define MCPREG_HOST_HTTP_ROUTES_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"

namespace mcpreg::host {

struct HttpRoute {
  std::string verb;  // "GET", "POST", "PUT", "DELETE", "PATCH"
  std::string path_template;
  // Literal segments, or "{field.path}" variables (one segment each); the
  // last may be "{field.path=**}", the rest of the path (zero or more
  // segments, each decoded, joined by '/').
  std::vector<std::string> segments;
  bool rest_variable = false;  // the last segment is "{field=**}"
  std::string body;  // "" (none), "*" (the whole request) or a field path
  // google.api.HttpBody: the body field (raw request body and its
  // Content-Type) and the output type (raw response), not JSON.
  bool raw_request = false;
  bool raw_response = false;
  std::string grpc_method;  // "/mcpreg.v1.McpRegistry/GetServer"
  const google::protobuf::MethodDescriptor* method = nullptr;
};

struct RouteMatch {
  const HttpRoute* route = nullptr;
  std::map<std::string, std::string> variables;  // field path -> decoded value
};

class RouteTable {
 public:
  // `descriptor_set` is the plugin's serialized FileDescriptorSet; `methods`
  // the fully-qualified methods it serves. Methods without the option get no
  // route (gRPC only).
  static absl::StatusOr<std::unique_ptr<RouteTable>> Build(
      const std::string& descriptor_set,
      const std::vector<std::string>& methods);

  // NOT_FOUND when no route has this path; UNIMPLEMENTED (HTTP 405) when one
  // has the path but not the verb.
  absl::StatusOr<RouteMatch> Match(const std::string& verb,
                                   const std::string& path) const;

  const std::vector<HttpRoute>& routes() const { return routes_; }
  const google::protobuf::DescriptorPool& pool() const { return pool_; }

 private:
  RouteTable() = default;

  google::protobuf::DescriptorPool pool_;
  std::vector<HttpRoute> routes_;
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_HTTP_ROUTES_H_
