// A strict parser for --redis-url: anything it does not understand is an
// error when the flag is read, not a surprise at the first connection.
//
//   redis://[user:pass@]host[:port][/db][,[redis://]host[:port]]...
//
// Several seeds mean a Redis Cluster, where SELECT does not exist, so a db
// with several seeds is refused. User info follows redis-cli: "user:pass",
// ":pass" or "pass" (no colon: a password for the default user).
#include "redis/redis_url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace plancache::internal {
namespace {

constexpr std::string_view kScheme = "redis://";
constexpr std::string_view kTlsScheme = "rediss://";

class UrlErrors {
 public:
  explicit UrlErrors(std::string_view text) : text_(text) {}
  Status operator()(std::string_view problem) const {
    // The text may hold a password: never echo user info.
    std::string shown(text_);
    const size_t at = shown.rfind('@');
    if (at != std::string::npos) {
      const size_t start = shown.find("://");
      shown.replace(start == std::string::npos ? 0 : start + 3,
                    at - (start == std::string::npos ? 0 : start + 3), "***");
    }
    return Status::invalid_argument("invalid Redis URL '" + shown + "': " + std::string(problem));
  }

 private:
  std::string_view text_;
};

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

bool is_host_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status percent_decode(const UrlErrors& bad, std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
    const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return bad("invalid percent escape in user info (expected %XX)");
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return Status::ok();
}

Status parse_number(const UrlErrors& bad, std::string_view text, std::string_view what, int min,
                    int max, int* value) {
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return bad(std::string(what) + " must be a number from " + std::to_string(min) + " to " +
               std::to_string(max) + ", got '" + std::string(text) + "'");
  }
  *value = v;
  return Status::ok();
}

Status parse_host_port(const UrlErrors& bad, std::string_view hp, RedisEndpoint* ep) {
  std::string_view host;
  std::string_view port;
  if (!hp.empty() && hp.front() == '[') {
    const size_t close = hp.find(']');
    if (close == std::string_view::npos) return bad("unterminated '[' in IPv6 host");
    host = hp.substr(1, close - 1);
    const std::string_view rest = hp.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad("unexpected text after ']'");
    if (!rest.empty()) port = rest.substr(1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
        })) {
      return bad("invalid IPv6 address");
    }
  } else {
    const size_t colon = hp.find(':');
    host = hp.substr(0, colon);
    if (colon != std::string_view::npos) port = hp.substr(colon + 1);
    if (colon != std::string_view::npos && port.empty()) return bad("empty port after ':'");
    if (host.empty()) return bad("missing host");
    if (!std::all_of(host.begin(), host.end(), is_host_char)) {
      return bad("invalid character in host '" + std::string(host) + "'");
    }
  }
  ep->host = std::string(host);
  ep->port = 6379;
  if (!port.empty())
    PLANCACHE_RETURN_IF_ERROR(parse_number(bad, port, "port", 1, 65535, &ep->port));
  return Status::ok();
}

Status parse_user_info(const UrlErrors& bad, std::string_view info, RedisUrl* url) {
  const size_t colon = info.find(':');
  if (colon == std::string_view::npos) return percent_decode(bad, info, &url->password);
  PLANCACHE_RETURN_IF_ERROR(percent_decode(bad, info.substr(0, colon), &url->user));
  PLANCACHE_RETURN_IF_ERROR(percent_decode(bad, info.substr(colon + 1), &url->password));
  if (url->password.empty() && !url->user.empty()) return bad("a user needs a password");
  return Status::ok();
}

// One seed, its scheme already removed: [userinfo@]host[:port][/db].
Status parse_seed(const UrlErrors& bad, std::string_view seed, bool first, RedisUrl* url,
                  bool* has_db) {
  if (seed.find_first_of("?#") != std::string_view::npos) {
    return bad("query strings and fragments are not supported");
  }
  const size_t at = seed.rfind('@');
  if (at != std::string_view::npos) {
    if (!first) return bad("user info is only allowed on the first seed");
    PLANCACHE_RETURN_IF_ERROR(parse_user_info(bad, seed.substr(0, at), url));
    seed = seed.substr(at + 1);
  }
  const size_t slash = seed.find('/');
  RedisEndpoint ep;
  PLANCACHE_RETURN_IF_ERROR(parse_host_port(bad, seed.substr(0, slash), &ep));
  url->seeds.push_back(std::move(ep));
  if (slash == std::string_view::npos) return Status::ok();
  const std::string_view db = seed.substr(slash + 1);
  if (db.empty()) return Status::ok();
  *has_db = true;
  return parse_number(bad, db, "db", 0, 1 << 30, &url->db);
}

}  // namespace

std::string RedisUrl::redacted() const {
  std::string out(kScheme);
  if (!user.empty() || !password.empty()) {
    out += user;
    if (!password.empty()) out += ":***";
    out += '@';
  }
  for (size_t i = 0; i < seeds.size(); ++i) {
    if (i > 0) out += ',';
    const bool v6 = seeds[i].host.find(':') != std::string::npos;
    out += v6 ? "[" + seeds[i].host + "]" : seeds[i].host;
    out += ':' + std::to_string(seeds[i].port);
  }
  if (db != 0) out += "/" + std::to_string(db);
  return out;
}

Result<RedisUrl> parse_redis_url(std::string_view text) {
  const UrlErrors bad(text);
  if (text.empty()) return bad("it is empty");
  RedisUrl url;
  bool has_db = false;
  size_t begin = 0;
  while (true) {
    const size_t comma = text.find(',', begin);
    std::string_view seed =
        text.substr(begin, comma == std::string_view::npos ? comma : comma - begin);
    const bool first = begin == 0;
    if (starts_with_ci(seed, kTlsScheme)) {
      return bad("rediss:// (TLS) is not supported by this build (hiredis without TLS)");
    }
    if (starts_with_ci(seed, kScheme)) {
      seed.remove_prefix(kScheme.size());
    } else if (first) {
      return bad(seed.find("://") == std::string_view::npos
                     ? "missing scheme; expected redis://[user:pass@]host:port[/db]"
                     : "unsupported scheme: only redis:// is supported");
    } else if (seed.find("://") != std::string_view::npos) {
      return bad("unsupported scheme in seed '" + std::string(seed) + "'");
    }
    if (seed.empty()) return bad("empty seed");
    PLANCACHE_RETURN_IF_ERROR(parse_seed(bad, seed, first, &url, &has_db));
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  if (has_db && url.seeds.size() > 1) {
    return bad("a db cannot be given with several seeds (Redis Cluster has only db 0)");
  }
  return url;
}

}  // namespace plancache::internal
