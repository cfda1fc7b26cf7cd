#include "host/json_transcoder.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/json_util.h"

namespace mcpreg::host {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// By JSON name ("repoKey") or proto name ("repo_key").
const FieldDescriptor* FindField(const google::protobuf::Descriptor* d,
                                 absl::string_view name) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->name() == name || f->json_name() == name) return f;
  }
  return nullptr;
}

std::string FieldNames(const google::protobuf::Descriptor* d) {
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i) {
    names.push_back(d->field(i)->json_name());
  }
  return absl::StrJoin(names, ", ");
}

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Sets the scalar (or well-known-type message) at `path` from text, as a
// query parameter or path variable gives it. `what` names it in errors.
absl::Status SetFromText(Message& root, const std::string& path,
                         const std::string& text, absl::string_view what) {
  Message* msg = &root;
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = FindField(msg->GetDescriptor(), parts[i]);
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " '", path, "': ", msg->GetDescriptor()->full_name(),
          " has no field '", parts[i],
          "' (it has: ", FieldNames(msg->GetDescriptor()), ")"));
    }
    const auto* r = msg->GetReflection();
    const bool last = i + 1 == parts.size();
    if (!last) {
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
          f->is_repeated()) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, " '", path, "': '", parts[i], "' is not a message field"));
      }
      msg = r->MutableMessage(msg, f);
      continue;
    }
    const auto bad = [&](absl::string_view expected) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " '", path, "': '", text, "' is not ", expected));
    };
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        f->is_repeated() ? r->AddString(msg, f, text)
                         : r->SetString(msg, f, text);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_BOOL: {
        if (text != "true" && text != "false") return bad("true or false");
        f->is_repeated() ? r->AddBool(msg, f, text == "true")
                         : r->SetBool(msg, f, text == "true");
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v;
        if (!absl::SimpleAtoi(text, &v)) return bad("an integer");
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
          if (v < INT32_MIN || v > INT32_MAX) return bad("a 32-bit integer");
          f->is_repeated() ? r->AddInt32(msg, f, static_cast<int32_t>(v))
                           : r->SetInt32(msg, f, static_cast<int32_t>(v));
        } else {
          f->is_repeated() ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v;
        if (!absl::SimpleAtoi(text, &v)) return bad("a non-negative integer");
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_UINT32) {
          if (v > UINT32_MAX) return bad("a 32-bit integer");
          f->is_repeated() ? r->AddUInt32(msg, f, static_cast<uint32_t>(v))
                           : r->SetUInt32(msg, f, static_cast<uint32_t>(v));
        } else {
          f->is_repeated() ? r->AddUInt64(msg, f, v) : r->SetUInt64(msg, f, v);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* value = f->enum_type()->FindValueByName(text);
        if (value == nullptr) {
          return bad(absl::StrCat("a value of ", f->enum_type()->full_name()));
        }
        f->is_repeated() ? r->AddEnum(msg, f, value)
                         : r->SetEnum(msg, f, value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        // Well-known types such as Timestamp take their JSON string form.
        Message* sub = f->is_repeated() ? r->AddMessage(msg, f)
                                        : r->MutableMessage(msg, f);
        if (!google::protobuf::util::JsonStringToMessage(JsonQuote(text), sub)
                 .ok()) {
          return bad(absl::StrCat("a ", f->message_type()->full_name(),
                                  " in its JSON form"));
        }
        return absl::OkStatus();
      }
      default:
        return bad("supported here");
    }
  }
  return absl::OkStatus();
}

absl::Status ParseJsonInto(const std::string& body, Message* msg) {
  google::protobuf::util::JsonParseOptions strict;  // unknown fields refused
  auto status = google::protobuf::util::JsonStringToMessage(body, msg, strict);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("request body: ", status.message().as_string()));
}

// Sets a google.api.HttpBody's content_type and data by reflection (the host
// compiles no googleapis messages).
void SetHttpBody(Message& http_body, const std::string& content_type,
                 const std::string& data) {
  const auto* d = http_body.GetDescriptor();
  const auto* r = http_body.GetReflection();
  r->SetString(&http_body, d->FindFieldByName("content_type"), content_type);
  r->SetString(&http_body, d->FindFieldByName("data"), data);
}

}  // namespace

absl::StatusOr<std::string> JsonTranscoder::Request(
    const RouteMatch& match, const std::string& body,
    const std::multimap<std::string, std::string>& query,
    const std::string& content_type) {
  const HttpRoute& route = *match.route;
  std::unique_ptr<Message> request(
      factory_.GetPrototype(route.method->input_type())->New());
  if (route.raw_request) {
    Message* target = request.get();
    if (route.body != "*") {
      target = request->GetReflection()->MutableMessage(
          request.get(), request->GetDescriptor()->FindFieldByName(route.body));
    }
    SetHttpBody(*target, content_type, body);
  } else if (!route.body.empty()) {
    if (body.empty()) {
      return absl::InvalidArgumentError(
          "request body: required (a JSON object)");
    }
    Message* target = request.get();
    if (route.body != "*") {
      const FieldDescriptor* f =
          FindField(request->GetDescriptor(), route.body);
      if (f == nullptr || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::InternalError(absl::StrCat(
            route.grpc_method, ": body field '", route.body, "' is unusable"));
      }
      target = request->GetReflection()->MutableMessage(request.get(), f);
    }
    if (absl::Status s = ParseJsonInto(body, target); !s.ok()) return s;
  } else if (!body.empty() &&
             body.find_first_not_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body: ", route.verb, " ", route.path_template,
                     " takes no body; pass fields as query parameters"));
  }
  for (const auto& [path, value] : match.variables) {
    if (absl::Status s = SetFromText(*request, path, value, "path variable");
        !s.ok()) {
      return s;
    }
  }
  for (const auto& [name, value] : query) {
    if (route.raw_request || route.raw_response) {
      const std::string first = name.substr(0, name.find('.'));
      if (FindField(request->GetDescriptor(), first) == nullptr) continue;
    }
    // Fields the path or the body bind are theirs alone: a query parameter
    // must not redirect a call the URL names (PUT /servers/A/... ?server=B).
    const bool bound_by_body =
        route.body == "*" ||
        (!route.body.empty() &&
         (name == route.body || absl::StartsWith(name, route.body + ".")));
    if (bound_by_body || match.variables.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "query parameter '", name, "': that field is set by the ",
          bound_by_body ? "request body" : "path", " of ",
          route.path_template));
    }
    if (absl::Status s = SetFromText(*request, name, value, "query parameter");
        !s.ok()) {
      return s;
    }
  }
  std::string bytes;
  if (!request->SerializeToString(&bytes)) {
    return absl::InvalidArgumentError("request: cannot be encoded");
  }
  return bytes;
}

absl::StatusOr<std::string> JsonTranscoder::ResponseJson(
    const HttpRoute& route, const std::string& bytes) {
  std::unique_ptr<Message> response(
      factory_.GetPrototype(route.method->output_type())->New());
  if (!response->ParseFromString(bytes)) {
    return absl::InternalError(absl::StrCat(
        route.grpc_method, ": the plugin's response does not parse"));
  }
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  auto status =
      google::protobuf::util::MessageToJsonString(*response, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat(route.grpc_method, ": ", status.message().as_string()));
  }
  return json;
}

absl::StatusOr<JsonTranscoder::RawBody> JsonTranscoder::ResponseRaw(
    const HttpRoute& route, const std::string& bytes) {
  // google.api.HttpBody: content_type = 1, data = 2 (extensions = 3, unused
  // here). Read off the wire: the host compiles no googleapis messages.
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(bytes)) {
    return absl::InternalError(absl::StrCat(
        route.grpc_method, ": the plugin's response does not parse"));
  }
  RawBody out;
  for (int i = 0; i < fields.field_count(); ++i) {
    const auto& f = fields.field(i);
    if (f.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      continue;
    }
    if (f.number() == 1) out.content_type = f.length_delimited();
    if (f.number() == 2) out.data = f.length_delimited();
  }
  if (out.content_type.empty()) out.content_type = "application/octet-stream";
  return out;
}

}  // namespace mcpreg::host
