#include "tiers/redis/redis_keys.h"

#include <cstdio>

namespace plancache::internal {

std::string RedisKeys::name(char kind, const CacheKey& key) const {
  char tag[20];
  std::snprintf(tag, sizeof tag, "%016llx", static_cast<unsigned long long>(key.hash()));
  std::string out;
  out.reserve(prefix_.size() + 26 + key.encoded().size());
  out += prefix_;
  out += ':';
  out += kind;
  out += ":{";
  out += tag;
  out += "}:";
  out += key.ns();
  out += ':';
  out += static_cast<char>(key.kind());
  out += ':';
  out += key.id();
  return out;
}

std::string RedisKeys::meta(std::string_view ns, char which) const {
  std::string out = prefix_ + ":m:{";
  out += ns;
  out += "}:";
  out += which;
  return out;
}

RedisKeys::Parsed RedisKeys::parse(std::string_view name) const {
  Parsed out;
  if (name.size() < prefix_.size() + 3 || name.substr(0, prefix_.size()) != prefix_ ||
      name[prefix_.size()] != ':' || name[prefix_.size() + 2] != ':') {
    return out;
  }
  const char kind = name[prefix_.size() + 1];
  std::string_view rest = name.substr(prefix_.size() + 3);
  if (kind == 'm') {
    const size_t close = rest.find('}');
    if (rest.size() < 2 || rest[0] != '{' || close == std::string_view::npos) return out;
    out.kind = Parsed::Kind::kMeta;
    out.ns = std::string(rest.substr(1, close - 1));
    return out;
  }
  if (kind != 'e' && kind != 'l') return out;
  // {<16 hex>}:<ns>:<kind>:<id>
  if (rest.size() < 19 || rest[0] != '{' || rest[17] != '}' || rest[18] != ':') return out;
  rest.remove_prefix(19);
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || rest.size() < colon + 4 ||
      rest[colon + 2] != ':') {
    return out;
  }
  const std::string_view ns = rest.substr(0, colon);
  const char key_kind = rest[colon + 1];
  const std::string_view id = rest.substr(colon + 3);
  if ((key_kind != 'p' && key_kind != 'u') || id.empty() || id.find('\0') != id.npos ||
      !validate_namespace_name(ns).is_ok()) {
    return out;
  }
  out.key.emplace(ns, static_cast<KeyKind>(key_kind), id);
  out.kind = kind == 'e' ? Parsed::Kind::kEntry : Parsed::Kind::kLease;
  return out;
}

}  // namespace plancache::internal
