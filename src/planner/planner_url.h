// PlannerUrl: where an HTTP planner listens (--planner-url).
//
// Accepted form: http://HOST[:PORT][/PATH[?QUERY]]. HOST is a name, an IPv4
// address or a bracketed IPv6 address ([::1]); PORT defaults to 80; PATH
// defaults to "/" and is sent as the request target as given. https (we
// speak no TLS), user info and fragments are rejected (core/http_url.h).
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plancache/status.h"

namespace plancache::internal {

struct PlannerUrl {
  std::string host;      // without brackets for IPv6 ("::1")
  uint16_t port = 80;
  std::string target = "/";  // path and query, always starting with '/'

  // The Host header value: "host:port" ("[::1]:port" for IPv6).
  std::string host_header() const;
  // Canonical form: "http://127.0.0.1:8080/plan".
  std::string to_string() const;
};

// Errors: invalid_argument naming the problem, e.g. "invalid planner URL
// 'https://x': https is not supported (only http://)".
Result<PlannerUrl> parse_planner_url(std::string_view text);

}  // namespace plancache::internal
