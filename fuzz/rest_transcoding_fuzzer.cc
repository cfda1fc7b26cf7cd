// REST transcoding from the registry's own descriptors: any method, path,
// query and body must become a request message or a clean error.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.pb.h"
#include "host/http_routes.h"
#include "host/json_transcoder.h"
#include "mcpreg/v1/admin.pb.h"
#include "mcpreg/v1/registry.pb.h"

namespace {

void Collect(const google::protobuf::FileDescriptor* file,
             std::set<std::string>& seen,
             google::protobuf::FileDescriptorSet& set) {
  if (!seen.insert(file->name()).second) return;
  for (int i = 0; i < file->dependency_count(); ++i) {
    Collect(file->dependency(i), seen, set);
  }
  file->CopyTo(set.add_file());
}

struct Gateway {
  std::unique_ptr<mcpreg::host::RouteTable> routes;
  std::unique_ptr<mcpreg::host::JsonTranscoder> transcoder;
};

const Gateway& TheGateway() {
  static const Gateway* g = [] {
    google::protobuf::FileDescriptorSet set;
    std::set<std::string> seen;
    Collect(mcpreg::v1::PluginInfo::descriptor()->file(), seen, set);
    Collect(mcpreg::v1::Repository::descriptor()->file(), seen, set);
    std::vector<std::string> methods;
    for (const auto& f : set.file()) {
      for (const auto& s : f.service()) {
        for (const auto& m : s.method()) {
          methods.push_back("/" + f.package() + "." + s.name() + "/" +
                            m.name());
        }
      }
    }
    auto* gw = new Gateway();
    gw->routes = std::move(
        *mcpreg::host::RouteTable::Build(set.SerializeAsString(), methods));
    gw->transcoder =
        std::make_unique<mcpreg::host::JsonTranscoder>(gw->routes->pool());
    return gw;
  }();
  return *g;
}

}  // namespace

// Input: "VERB PATH?QUERY\nBODY".
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Gateway& gw = TheGateway();
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  const std::string line = input.substr(0, eol);
  const std::string body =
      eol == std::string::npos ? "" : input.substr(eol + 1);
  const size_t space = line.find(' ');
  if (space == std::string::npos) return 0;
  const std::string verb = line.substr(0, space);
  std::string target = line.substr(space + 1);
  std::multimap<std::string, std::string> query;
  if (const size_t q = target.find('?'); q != std::string::npos) {
    for (absl::string_view kv : absl::StrSplit(target.substr(q + 1), '&')) {
      const size_t eq = kv.find('=');
      query.emplace(
          std::string(kv.substr(0, eq)),
          eq == absl::string_view::npos ? "" : std::string(kv.substr(eq + 1)));
    }
    target.resize(q);
  }
  auto match = gw.routes->Match(verb, target);
  if (!match.ok()) return 0;
  (void)gw.transcoder->Request(*match, body, query);
  return 0;
}
