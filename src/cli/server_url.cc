// --server: the shared http:// grammar (core/http_url.h) without a query;
// the path is a prefix for every request.
#include "cli/server_url.h"

#include "core/http_url.h"

namespace plancache::cli {

std::string ServerUrl::host_header() const {
  std::string out;
  internal::append_url_host(out, host);
  if (port != 80) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string ServerUrl::to_string() const {
  std::string out = "http://";
  internal::append_url_host(out, host);
  out += ':';
  out += std::to_string(port);
  out += base_path;
  return out;
}

Result<ServerUrl> parse_server_url(std::string_view text) {
  auto parsed = internal::parse_http_url(
      text, internal::HttpUrlRules{.what = "server",
                                   .allow_query = false,
                                   .user_info_hint = " (pass credentials with --token)"});
  if (!parsed.is_ok()) return parsed.status();
  ServerUrl url;
  url.host = std::move(parsed->host);
  url.port = parsed->port;
  std::string_view path = parsed->target;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.base_path = std::string(path);
  return url;
}

}  // namespace plancache::cli
