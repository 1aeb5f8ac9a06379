// --planner-url: the shared http:// grammar (core/http_url.h) with a query
// allowed and the path sent as the request target.
#include "planner/planner_url.h"

#include "core/http_url.h"

namespace plancache::internal {

std::string PlannerUrl::host_header() const {
  std::string out;
  append_url_host(out, host);
  out += ':';
  out += std::to_string(port);
  return out;
}

std::string PlannerUrl::to_string() const {
  std::string out = "http://";
  out += host_header();
  out += target;
  return out;
}

Result<PlannerUrl> parse_planner_url(std::string_view text) {
  auto parsed = parse_http_url(text, HttpUrlRules{.what = "planner", .allow_query = true, .user_info_hint = ""});
  if (!parsed.is_ok()) return parsed.status();
  PlannerUrl url;
  url.host = std::move(parsed->host);
  url.port = parsed->port;
  if (parsed->target.empty()) {
    url.target = "/";
  } else if (parsed->target.front() != '/') {
    url.target = "/" + parsed->target;
  } else {
    url.target = std::move(parsed->target);
  }
  return url;
}

}  // namespace plancache::internal
