// What the dashboard reads: GET /ui (the page and its script and style,
// embedded in the binary, server/ui/ui_assets.h) and GET /v1/stats/history.
#include <charconv>

#include "server/handlers/handlers.h"
#include "server/ui/ui_assets.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

// The page loads nothing but its own files and talks only to this origin:
// no inline script or style, no other host, no frames, no form posts.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const UiAsset* find_asset(std::string_view name) {
  for (const UiAsset& asset : ui_assets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

Result<int64_t> since_of(std::string_view query) {
  auto params = parse_query(query);
  if (!params.is_ok()) return params.status();
  int64_t since = 0;
  for (const auto& [name, value] : *params) {
    if (name != "since") {
      return Status::invalid_argument("unknown query parameter '" + name + "' (expected since)");
    }
    const char* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, since);
    if (value.empty() || ec != std::errc() || ptr != end || since < 0) {
      return Status::invalid_argument(
          "since must be a time in Unix milliseconds (an integer >= 0), got '" + value + "'");
    }
  }
  return since;
}

}  // namespace

void handle_ui(Call& call) {
  const std::string_view name = call.rest.empty() ? "dashboard.html" : call.rest;
  const UiAsset* asset = find_asset(name);
  if (asset == nullptr) return reply_error(call.res, Status::not_found("no such dashboard file"));
  call.res.result(http::status::ok);
  call.res.set(http::field::content_type, std::string(asset->content_type));
  call.res.set(http::field::cache_control, "no-cache");
  call.res.set("Content-Security-Policy", kContentSecurityPolicy);
  call.res.set("X-Content-Type-Options", "nosniff");
  call.res.set("Referrer-Policy", "no-referrer");
  call.res.body() = std::string(asset->body);
}

void handle_stats_history(const InfoHandlers& h, Call& call) {
  auto since = since_of(call.query);
  if (!since.is_ok()) return reply_error(call.res, since.status());
  const int64_t now_ms = h.cache.clock().now_ms();
  reply_json(call.res, http::status::ok, history_json(*h.history, *since, now_ms).dump());
}

}  // namespace plancache::internal
