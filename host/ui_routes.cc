#include "host/ui_routes.h"

#include <httplib.h>

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "host/ui_assets.h"

namespace mcpreg::host {
namespace {

constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

struct Served {
  absl::string_view body;
  const char* content_type;
  std::string etag;
};

const char* ContentType(absl::string_view path) {
  if (absl::EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(path, ".js") || absl::EndsWith(path, ".mjs")) {
    return "text/javascript; charset=utf-8";
  }
  if (absl::EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (absl::EndsWith(path, ".svg")) return "image/svg+xml";
  if (absl::EndsWith(path, ".png")) return "image/png";
  if (absl::EndsWith(path, ".json")) return "application/json";
  return "application/octet-stream";
}

// FNV-1a: an ETag only has to change when the bytes do.
std::string ETagOf(absl::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("\"%016x\"", h);
}

const absl::flat_hash_map<std::string, Served>& Assets() {
  static const auto* assets = [] {
    auto* map = new absl::flat_hash_map<std::string, Served>();
    for (size_t i = 0; i < kUiAssetCount; ++i) {
      const UiAsset& a = kUiAssets[i];
      const absl::string_view body(reinterpret_cast<const char*>(a.data),
                                   a.size);
      (*map)[a.path] = {body, ContentType(a.path), ETagOf(body)};
    }
    return map;
  }();
  return *assets;
}

void SetSecurityHeaders(httplib::Response& res) {
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cross-Origin-Opener-Policy", "same-origin");
}

void ServeAsset(const httplib::Request& req, httplib::Response& res) {
  std::string path = req.path;
  if (path == "/ui/") path = "/ui/index.html";
  SetSecurityHeaders(res);
  const auto& assets = Assets();
  const auto it = assets.find(path);
  if (it == assets.end()) {
    res.status = 404;
    res.set_content("not found\n", "text/plain; charset=utf-8");
    return;
  }
  const Served& asset = it->second;
  res.set_header("ETag", asset.etag);
  // Revalidated on every load (a 304 costs a round trip, not the bytes), so
  // a new host never runs with yesterday's scripts.
  res.set_header("Cache-Control", "no-cache");
  if (req.get_header_value("If-None-Match") == asset.etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(std::string(asset.body), asset.content_type);
}

void RedirectToUi(const httplib::Request&, httplib::Response& res) {
  res.status = 302;
  res.set_header("Location", "/ui/");
}

}  // namespace

void AddUiRoutes(httplib::Server& server) {
  server.Get("/", RedirectToUi);
  server.Get("/ui", RedirectToUi);
  server.Get("/ui/.*", ServeAsset);
}

}  // namespace mcpreg::host
