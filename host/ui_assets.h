// The web UI's files (ui/ and its vendored libraries), compiled into the
// host by cmake/EmbedFiles.cmake under the URL paths they are served at.
#ifndef MCPREG_HOST_UI_ASSETS_H_
#define MCPREG_HOST_UI_ASSETS_H_

#include <cstddef>

namespace mcpreg::host {

struct UiAsset {
  const char* path;  // "/ui/index.html", "/ui/js/app.js", ...
  const unsigned char* data;
  size_t size;
};

extern const UiAsset kUiAssets[];
extern const size_t kUiAssetCount;

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_UI_ASSETS_H_
