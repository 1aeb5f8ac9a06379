// Hand-written because Boost 1.74 has no Boost.URL and the grammar we accept is
// a small subset: scheme "http", host, optional port, optional path prefix.
#include "cli/server_url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace plancache::cli {
namespace {

Status bad_url(std::string_view text, std::string_view problem) {
  std::string message = "invalid server URL '";
  message += text;
  message += "': ";
  message += problem;
  return Status::invalid_argument(std::move(message));
}

bool is_host_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isxdigit(u) != 0 || c == ':' || c == '.';
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Splits "host[:port]" (host possibly "[v6]") into `url`.
Status parse_authority(std::string_view text, std::string_view authority, ServerUrl* url) {
  if (authority.empty()) return bad_url(text, "missing host");
  if (authority.find('@') != std::string_view::npos) {
    return bad_url(text, "user info is not supported (pass credentials with --token)");
  }
  std::string_view host;
  std::string_view rest;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(text, "unterminated '[' in IPv6 host");
    host = authority.substr(1, close - 1);
    rest = authority.substr(close + 1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_ipv6_char)) {
      return bad_url(text, "invalid IPv6 address");
    }
    if (!rest.empty() && rest.front() != ':') return bad_url(text, "unexpected text after ']'");
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
    if (host.empty()) return bad_url(text, "missing host");
    if (!std::all_of(host.begin(), host.end(), is_host_char)) {
      return bad_url(text, "invalid character in host '" + std::string(host) + "'");
    }
  }
  url->host = std::string(host);
  if (rest.empty()) return Status::ok();
  const std::string_view port = rest.substr(1);
  if (port.empty()) return bad_url(text, "empty port after ':'");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return bad_url(text, "port must be a number from 1 to 65535, got '" + std::string(port) + "'");
  }
  url->port = static_cast<uint16_t>(value);
  return Status::ok();
}

}  // namespace

// Appends host, bracketed when it is an IPv6 literal. (Built by appending:
// GCC 12 at -O3 raises a false -Wrestrict on "literal" + std::string.)
static void append_host(std::string& out, const std::string& host) {
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
}

std::string ServerUrl::host_header() const {
  std::string out;
  append_host(out, host);
  if (port != 80) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string ServerUrl::to_string() const {
  std::string out = "http://";
  append_host(out, host);
  out += ':';
  out += std::to_string(port);
  out += base_path;
  return out;
}

Result<ServerUrl> parse_server_url(std::string_view text) {
  if (text.empty()) return bad_url(text, "it is empty");
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return bad_url(text, "missing scheme; expected http://HOST[:PORT]");
  }
  const std::string scheme = lower(text.substr(0, sep));
  if (scheme != "http") {
    return bad_url(text, "unsupported scheme '" + scheme + "': only http:// is supported");
  }
  const std::string_view after = text.substr(sep + 3);
  if (after.find_first_of("?#") != std::string_view::npos) {
    return bad_url(text, "query strings and fragments are not supported");
  }
  const size_t slash = after.find('/');
  ServerUrl url;
  PLANCACHE_RETURN_IF_ERROR(parse_authority(text, after.substr(0, slash), &url));
  if (slash != std::string_view::npos) {
    std::string_view path = after.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (path.find_first_of(" \t\r\n") != std::string_view::npos) {
      return bad_url(text, "whitespace in path");
    }
    url.base_path = std::string(path);
  }
  return url;
}

}  // namespace plancache::cli
