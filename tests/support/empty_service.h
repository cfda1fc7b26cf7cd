// A gRPC service built at run time whose methods all take and return
// google.protobuf.Empty, for SDK tests and fixture plugins that have no
// .proto of their own: the SDK registers methods from descriptors.
#ifndef MCPREG_TESTS_SUPPORT_EMPTY_SERVICE_H_
#define MCPREG_TESTS_SUPPORT_EMPTY_SERVICE_H_

#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/empty.pb.h"

namespace mcpreg::testing {

// Builds package.service with `methods` in a pool of its own, which lives as
// long as the process (descriptors are handed to the host for good).
inline const google::protobuf::ServiceDescriptor* BuildEmptyService(
    const std::string& package, const std::string& service,
    const std::vector<std::string>& methods) {
  (void)google::protobuf::Empty::descriptor();  // in the generated pool
  auto* pool = new google::protobuf::DescriptorPool(
      google::protobuf::DescriptorPool::generated_pool());
  google::protobuf::FileDescriptorProto file;
  file.set_name(package + "/" + service + ".proto");
  file.set_package(package);
  file.add_dependency("google/protobuf/empty.proto");
  auto* svc = file.add_service();
  svc->set_name(service);
  for (const std::string& name : methods) {
    auto* m = svc->add_method();
    m->set_name(name);
    m->set_input_type(".google.protobuf.Empty");
    m->set_output_type(".google.protobuf.Empty");
  }
  return pool->BuildFile(file)->service(0);
}

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_EMPTY_SERVICE_H_
