// The generic store: GET / PUT / DELETE /v1/entries/{namespace}/{key}.
//
// The path after /v1/entries/ is split at its first '/': the namespace, then
// the key, which may itself contain '/'. Both are percent-decoded and then
// validated. A PUT body is any JSON value and is stored byte for byte as
// sent; a GET answers those bytes as its body. TTL, tags and compute time
// come from the query string: ?ttl_s=60&tags=a,b&compute_ms=120.
#include <limits>

#include "server/handlers/handlers.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

constexpr int64_t kMaxTtlS = std::numeric_limits<int64_t>::max() / 1000;

Result<CacheKey> entry_key(std::string_view rest) {
  const size_t slash = rest.find('/');
  auto ns = percent_decode(rest.substr(0, slash), false);
  if (!ns) return Status::invalid_argument("malformed percent-escape in the namespace");
  PLANCACHE_RETURN_IF_ERROR(validate_namespace(*ns));
  auto key = percent_decode(slash == std::string_view::npos ? "" : rest.substr(slash + 1), false);
  if (!key) return Status::invalid_argument("malformed percent-escape in the key");
  PLANCACHE_RETURN_IF_ERROR(validate_user_key(*key));
  return CacheKey(*ns, KeyKind::kUser, *key);
}

Result<PutOptions> query_options(std::string_view query) {
  auto params = parse_query(query);
  if (!params.is_ok()) return params.status();
  PutOptions options;
  for (const auto& [name, value] : *params) {
    if (name == "ttl_s") {
      auto ttl = parse_non_negative(value, "ttl_s", kMaxTtlS);
      if (!ttl.is_ok()) return ttl.status();
      options.ttl_ms = *ttl * 1000;
    } else if (name == "compute_ms") {
      auto ms = parse_non_negative(value, "compute_ms", std::numeric_limits<uint32_t>::max());
      if (!ms.is_ok()) return ms.status();
      options.compute_ms = static_cast<uint32_t>(*ms);
    } else if (name == "tags") {
      std::string_view rest = value;
      while (true) {
        const size_t comma = rest.find(',');
        const std::string_view tag = rest.substr(0, comma);
        PLANCACHE_RETURN_IF_ERROR(validate_tag(tag, "tags"));
        options.tags.emplace_back(tag);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
      }
    } else {
      return Status::invalid_argument("unknown query parameter '" + name +
                                      "' (expected ttl_s, tags or compute_ms)");
    }
  }
  return options;
}

void get_entry(ServiceState& state, Call& call, const CacheKey& key) {
  const Lookup hit = state.cache->get(key);
  if (!hit.hit()) {
    return reply_error(call.res, Status::not_found("no entry for this key"));
  }
  const EntryMeta& meta = hit.entry->meta;
  call.res.result(http::status::ok);
  call.res.set(http::field::content_type, "application/json");
  call.res.set("X-Plancache-Tier", std::string(hit.tier));
  call.res.set("X-Plancache-Created-Ms", std::to_string(meta.created_ms));
  if (meta.expires_ms != 0) call.res.set("X-Plancache-Expires-Ms", std::to_string(meta.expires_ms));
  call.res.body() = *hit.entry->value;
}

void put_entry(ServiceState& state, Call& call, const CacheKey& key) {
  auto options = query_options(call.query);
  if (!options.is_ok()) return reply_error(call.res, options.status());
  if (Status s = check_json_text(call.req.body()); !s.is_ok()) return reply_error(call.res, s);
  auto value = std::make_shared<const Bytes>(call.req.body());
  if (Status s = state.cache->put(key, std::move(value), *options); !s.is_ok()) {
    return reply_error(call.res, s);
  }
  reply_json(call.res, http::status::created,
             R"({"namespace":)" + json_quote(key.ns()) + R"(,"key":)" + json_quote(key.id()) + "}");
}

void delete_entry(ServiceState& state, Call& call, const CacheKey& key) {
  auto removed = state.cache->erase(key);
  if (!removed.is_ok()) return reply_error(call.res, removed.status());
  reply_json(call.res, http::status::ok, *removed ? R"({"removed":true})" : R"({"removed":false})");
}

}  // namespace

void handle_entries(ServiceState& state, Call& call) {
  auto key = entry_key(call.rest);
  if (!key.is_ok()) return reply_error(call.res, key.status());
  switch (call.req.method()) {
    case http::verb::get:
      return get_entry(state, call, *key);
    case http::verb::put:
      return put_entry(state, call, *key);
    default:
      return delete_entry(state, call, *key);
  }
}

}  // namespace plancache::internal
