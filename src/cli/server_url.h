// ServerUrl: where the CLI finds a running `plancache serve`.
//
// Only plain http:// is supported (the server speaks no TLS; put a proxy in
// front for that). Accepted form:
//   http://HOST[:PORT][/BASE/PATH]
// HOST is a name, an IPv4 address or a bracketed IPv6 address ([::1]); PORT
// defaults to 80; BASE/PATH (default empty) is prefixed to every request
// path, for a server mounted behind a reverse proxy. User info, queries and
// fragments are rejected: the token goes in --token, not in the URL.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plancache/status.h"

namespace plancache::cli {

struct ServerUrl {
  std::string host;       // without brackets for IPv6 ("::1")
  uint16_t port = 80;
  std::string base_path;  // "" or "/prefix" (never a trailing '/')

  // The Host header value: "host", "host:port", "[::1]:port".
  std::string host_header() const;
  // Canonical form: "http://127.0.0.1:8080/prefix".
  std::string to_string() const;
};

// Parses `text`; an invalid URL gives kInvalidArgument with a message naming
// the problem (e.g. "unsupported scheme 'https' in server URL '...': only
// http:// is supported").
Result<ServerUrl> parse_server_url(std::string_view text);

}  // namespace plancache::cli
