#include "host/http_routes.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/unknown_field_set.h"

namespace mcpreg::host {
namespace {

// google.api.http's field number on google.protobuf.MethodOptions.
constexpr int kHttpOptionField = 72295728;

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  for (absl::string_view s : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    out.emplace_back(s);
  }
  return out;
}

// "%2F" -> "/", "+" stays: path segments are percent-encoded, not form-encoded.
bool PercentDecode(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

constexpr char kHttpBody[] = "google.api.HttpBody";

// Adds the rule (and its additional bindings) for `method`.
absl::Status AddRule(const google::protobuf::Message& rule,
                     const google::protobuf::MethodDescriptor* method,
                     const std::string& grpc_method,
                     std::vector<HttpRoute>& routes) {
  const auto* d = rule.GetDescriptor();
  const auto* r = rule.GetReflection();
  HttpRoute route;
  for (const char* verb : {"get", "put", "post", "delete", "patch"}) {
    const auto* f = d->FindFieldByName(verb);
    if (f != nullptr && r->HasField(rule, f)) {
      route.verb = absl::AsciiStrToUpper(verb);
      route.path_template = r->GetString(rule, f);
    }
  }
  if (route.verb.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(grpc_method, ": google.api.http has no supported verb"));
  }
  route.body = r->GetString(rule, d->FindFieldByName("body"));
  route.grpc_method = grpc_method;
  route.method = method;
  std::vector<std::string> segments = SplitPath(route.path_template);
  for (size_t i = 0; i < segments.size(); ++i) {
    std::string& seg = segments[i];
    if (absl::StartsWith(seg, "{")) {
      const bool rest = absl::EndsWith(seg, "=**}") && i + 1 == segments.size();
      if (rest) {
        seg = absl::StrCat(seg.substr(0, seg.size() - 4), "}");
        route.rest_variable = true;
      }
      if (!absl::EndsWith(seg, "}") || absl::StrContains(seg, "=")) {
        return absl::InvalidArgumentError(absl::StrCat(
            grpc_method, ": path variable ", seg,
            " is not supported (use {field} for one segment, {field=**} "
            "last for the rest of the path)"));
      }
    }
    route.segments.push_back(std::move(seg));
  }
  if (method != nullptr) {
    const auto* input = method->input_type();
    if (route.body == "*") {
      route.raw_request = input->full_name() == kHttpBody;
    } else if (!route.body.empty()) {
      const auto* f = input->FindFieldByName(route.body);
      route.raw_request = f != nullptr && f->message_type() != nullptr &&
                          f->message_type()->full_name() == kHttpBody;
    }
    route.raw_response = method->output_type()->full_name() == kHttpBody;
  }
  routes.push_back(std::move(route));
  const auto* extra = d->FindFieldByName("additional_bindings");
  for (int i = 0; i < r->FieldSize(rule, extra); ++i) {
    if (absl::Status s = AddRule(r->GetRepeatedMessage(rule, extra, i), method,
                                 grpc_method, routes);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouteTable>> RouteTable::Build(
    const std::string& descriptor_set,
    const std::vector<std::string>& methods) {
  std::unique_ptr<RouteTable> table(new RouteTable());
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromString(descriptor_set)) {
    return absl::InvalidArgumentError(
        "the plugin's descriptor set does not parse");
  }
  for (const auto& file : set.file()) {
    if (table->pool_.BuildFile(file) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the plugin's descriptor of ", file.name(), " does not build"));
    }
  }
  const auto* rule_type =
      table->pool_.FindMessageTypeByName("google.api.HttpRule");
  google::protobuf::DynamicMessageFactory factory(&table->pool_);
  for (const auto& file : set.file()) {
    for (const auto& service : file.service()) {
      for (const auto& m : service.method()) {
        const std::string grpc_method = absl::StrCat(
            "/", file.package().empty() ? "" : file.package() + ".",
            service.name(), "/", m.name());
        if (std::find(methods.begin(), methods.end(), grpc_method) ==
            methods.end()) {
          continue;  // described, not served
        }
        // The option is an extension the host does not compile. Whether
        // libprotobuf parsed it as a known extension (the loaded plugin
        // registered it) or kept it unknown, its wire bytes are the same:
        // re-read the options as raw fields and pick the HttpRule's bytes.
        google::protobuf::UnknownFieldSet unknown;
        if (!unknown.ParseFromString(m.options().SerializeAsString())) {
          continue;
        }
        for (int i = 0; i < unknown.field_count(); ++i) {
          const auto& f = unknown.field(i);
          if (f.number() != kHttpOptionField ||
              f.type() !=
                  google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED ||
              rule_type == nullptr) {
            continue;
          }
          std::unique_ptr<google::protobuf::Message> rule(
              factory.GetPrototype(rule_type)->New());
          if (!rule->ParseFromString(f.length_delimited())) {
            return absl::InvalidArgumentError(
                absl::StrCat(grpc_method, ": google.api.http does not parse"));
          }
          const auto* method = table->pool_.FindMethodByName(
              absl::StrCat(file.package().empty() ? "" : file.package() + ".",
                           service.name(), ".", m.name()));
          if (absl::Status s =
                  AddRule(*rule, method, grpc_method, table->routes_);
              !s.ok()) {
            return s;
          }
        }
      }
    }
  }
  return table;
}

absl::StatusOr<RouteMatch> RouteTable::Match(const std::string& verb,
                                             const std::string& path) const {
  const std::vector<std::string> parts = SplitPath(path);
  bool path_known = false;
  for (const HttpRoute& route : routes_) {
    const size_t fixed = route.segments.size() - (route.rest_variable ? 1 : 0);
    if (route.rest_variable ? parts.size() < fixed
                            : route.segments.size() != parts.size()) {
      continue;
    }
    RouteMatch match;
    bool ok = true;
    if (route.rest_variable) {
      std::string rest;
      for (size_t i = fixed; i < parts.size() && ok; ++i) {
        std::string value;
        ok = PercentDecode(parts[i], &value);
        absl::StrAppend(&rest, i == fixed ? "" : "/", value);
      }
      const std::string& seg = route.segments.back();
      match.variables[seg.substr(1, seg.size() - 2)] = rest;
    }
    for (size_t i = 0; i < fixed && ok; ++i) {
      const std::string& seg = route.segments[i];
      if (absl::StartsWith(seg, "{")) {
        std::string value;
        ok = PercentDecode(parts[i], &value) && !value.empty();
        match.variables[seg.substr(1, seg.size() - 2)] = value;
      } else {
        ok = seg == parts[i];
      }
    }
    if (!ok) continue;
    path_known = true;
    if (route.verb != verb) continue;
    match.route = &route;
    return match;
  }
  if (path_known) {
    return absl::UnimplementedError(
        absl::StrCat(verb, " is not allowed on ", path));
  }
  return absl::NotFoundError(absl::StrCat("no route for ", verb, " ", path));
}

}  // namespace mcpreg::host
