// HttpUrl: the small http:// URL grammar shared by the CLI's --server and
// the server's --planner-url: http://HOST[:PORT][/PATH[?QUERY]].
//
// HOST is a name, an IPv4 address or a bracketed IPv6 address ([::1]); PORT
// defaults to 80. https (plancache speaks no TLS), user info and fragments
// are rejected, and so is a query unless the caller allows one. Hand-written
// because Boost 1.74 (Debian 12) has no Boost.URL.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plancache/status.h"

namespace plancache::internal {

struct HttpUrl {
  std::string host;    // without brackets for IPv6 ("::1")
  uint16_t port = 80;
  std::string target;  // path and query as given ("" when none): "/p", "/p?q", "?q"
};

struct HttpUrlRules {
  // Names the URL in errors: "invalid <what> URL '...': <problem>".
  std::string_view what;
  // Whether "?query" is accepted (into HttpUrl::target).
  bool allow_query = false;
  // Appended to the user-info error, e.g. " (pass credentials with --token)".
  std::string_view user_info_hint;
};

// Errors: invalid_argument naming the URL and the problem.
Result<HttpUrl> parse_http_url(std::string_view text, const HttpUrlRules& rules);

// Appends `host` to `out`, bracketed when it is an IPv6 literal. (Built by
// appending: GCC 12 at -O3 raises a false -Wrestrict on "literal" + string.)
void append_url_host(std::string& out, const std::string& host);

}  // namespace plancache::internal
