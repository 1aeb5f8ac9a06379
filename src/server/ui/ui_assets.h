// The files of the dashboard (GET /ui), compiled into the binary: the
// sources are src/server/ui/*.html, .js, .css, .svg, turned into C++ at build time by
// cmake/EmbedFiles.cmake (docs/decisions.md, "Dashboard").
//
// Thread-safety: immutable static data.
#pragma once

#include <span>
#include <string_view>

namespace plancache::internal {

struct UiAsset {
  std::string_view name;          // file name: "dashboard.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

// Every embedded file; static storage.
std::span<const UiAsset> ui_assets();

}  // namespace plancache::internal
