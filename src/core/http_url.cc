// A strict parser: anything it does not understand is an error when the
// flag is read, not a surprise at the first request.
#include "core/http_url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace plancache::internal {
namespace {

class UrlErrors {
 public:
  UrlErrors(std::string_view text, std::string_view what) : text_(text), what_(what) {}
  Status operator()(std::string_view problem) const {
    std::string message = "invalid ";
    message += what_;
    message += " URL '";
    message += text_;
    message += "': ";
    message += problem;
    return Status::invalid_argument(std::move(message));
  }

 private:
  std::string_view text_;
  std::string_view what_;
};

bool is_host_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isxdigit(u) != 0 || c == ':' || c == '.';
}

// Printable ASCII other than space: what may appear in a request target.
bool is_target_char(char c) { return c > ' ' && c < 0x7f; }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Status parse_port(const UrlErrors& bad, std::string_view port, HttpUrl* url) {
  if (port.empty()) return bad("empty port after ':'");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return bad("port must be a number from 1 to 65535, got '" + std::string(port) + "'");
  }
  url->port = static_cast<uint16_t>(value);
  return Status::ok();
}

// Splits "host[:port]" (host possibly "[v6]") into `url`.
Status parse_authority(const UrlErrors& bad, const HttpUrlRules& rules,
                       std::string_view authority, HttpUrl* url) {
  if (authority.empty()) return bad("missing host");
  if (authority.find('@') != std::string_view::npos) {
    return bad("user info is not supported" + std::string(rules.user_info_hint));
  }
  std::string_view host;
  std::string_view rest;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated '[' in IPv6 host");
    host = authority.substr(1, close - 1);
    rest = authority.substr(close + 1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_ipv6_char)) {
      return bad("invalid IPv6 address");
    }
    if (!rest.empty() && rest.front() != ':') return bad("unexpected text after ']'");
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
    if (host.empty()) return bad("missing host");
    if (!std::all_of(host.begin(), host.end(), is_host_char)) {
      return bad("invalid character in host '" + std::string(host) + "'");
    }
  }
  url->host = std::string(host);
  if (rest.empty()) return Status::ok();
  return parse_port(bad, rest.substr(1), url);
}

}  // namespace

void append_url_host(std::string& out, const std::string& host) {
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
}

Result<HttpUrl> parse_http_url(std::string_view text, const HttpUrlRules& rules) {
  const UrlErrors bad(text, rules.what);
  if (text.empty()) return bad("it is empty");
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return bad("missing scheme; expected http://HOST[:PORT][/PATH]");
  }
  const std::string scheme = lower(text.substr(0, sep));
  if (scheme == "https") return bad("https is not supported: only http:// is supported");
  if (scheme != "http") return bad("unsupported scheme '" + scheme + "': only http:// is supported");
  const std::string_view after = text.substr(sep + 3);
  if (after.find('#') != std::string_view::npos) return bad("fragments are not supported");
  if (!rules.allow_query && after.find('?') != std::string_view::npos) {
    return bad("query strings are not supported");
  }
  const size_t end_of_authority = after.find_first_of("/?");
  HttpUrl url;
  PLANCACHE_RETURN_IF_ERROR(parse_authority(bad, rules, after.substr(0, end_of_authority), &url));
  if (end_of_authority != std::string_view::npos) {
    const std::string_view target = after.substr(end_of_authority);
    if (!std::all_of(target.begin(), target.end(), is_target_char)) {
      return bad("whitespace or control character in path");
    }
    url.target = std::string(target);
  }
  return url;
}

}  // namespace plancache::internal
