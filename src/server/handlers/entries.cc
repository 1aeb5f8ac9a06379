// The generic store: GET / PUT / DELETE /v1/entries/{namespace}/{key}, and
// the listing of a namespace's keys: GET /v1/entries/{namespace}.
//
// The path after /v1/entries/ is split at its first '/': the namespace, then
// the key, which may itself contain '/'. Both are percent-decoded and then
// validated. A PUT body is any JSON value and is stored byte for byte as
// sent; a GET answers those bytes as its body. TTL, tags, compute time and
// eviction hint come from the query string:
// ?ttl_s=60&tags=a,b&compute_ms=120&priority=important.
//
// A listing shows the user keys of the namespace only (plans stored through
// /v1/plans live in the same namespace under another key kind and are not
// reachable by /v1/entries), in key order, ?prefix= narrowing them and
// ?limit= bounding them; it asks the cache for one row more than the limit
// to tell whether the answer is truncated.
#include <limits>
#include <nlohmann/json.hpp>

#include "server/handlers/handlers.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

constexpr int64_t kMaxTtlS = std::numeric_limits<int64_t>::max() / 1000;
constexpr int64_t kDefaultListLimit = 1000;
constexpr int64_t kMaxListLimit = 10'000;

Result<std::string> entry_namespace(std::string_view segment) {
  auto ns = percent_decode(segment, false);
  if (!ns) return Status::invalid_argument("malformed percent-escape in the namespace");
  PLANCACHE_RETURN_IF_ERROR(validate_namespace(*ns));
  return std::move(*ns);
}

Result<CacheKey> entry_key(std::string_view rest) {
  const size_t slash = rest.find('/');
  auto ns = entry_namespace(rest.substr(0, slash));
  if (!ns.is_ok()) return ns.status();
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
    } else if (name == "priority") {
      auto priority = parse_priority(value, "priority");
      if (!priority.is_ok()) return priority.status();
      options.priority = *priority;
    } else {
      return Status::invalid_argument("unknown query parameter '" + name +
                                      "' (expected ttl_s, tags, compute_ms or priority)");
    }
  }
  return options;
}

// The selector and limit of a listing, from ?prefix=&limit=.
Result<std::pair<Selector, size_t>> list_query(std::string ns, std::string_view query) {
  auto params = parse_query(query);
  if (!params.is_ok()) return params.status();
  Selector selector;
  selector.ns = std::move(ns);
  int64_t limit = kDefaultListLimit;
  for (const auto& [name, value] : *params) {
    if (name == "prefix") {
      if (value.empty()) continue;  // ?prefix= : no narrowing
      PLANCACHE_RETURN_IF_ERROR(validate_tag(value, "prefix"));
      selector.prefix = value;
    } else if (name == "limit") {
      auto n = parse_non_negative(value, "limit", kMaxListLimit);
      if (!n.is_ok()) return n.status();
      if (*n == 0) return Status::invalid_argument("'limit' must be at least 1, got '0'");
      limit = *n;
    } else {
      return Status::invalid_argument("unknown query parameter '" + name +
                                      "' (expected prefix or limit)");
    }
  }
  // prefix and pattern match user keys only: "*" lists all of them.
  if (!selector.prefix) selector.pattern = "*";
  return std::pair{std::move(selector), static_cast<size_t>(limit)};
}

void list_entries(Cache& cache, Call& call, std::string_view segment) {
  auto ns = entry_namespace(segment);
  if (!ns.is_ok()) return reply_error(call.res, ns.status());
  auto query = list_query(*ns, call.query);
  if (!query.is_ok()) return reply_error(call.res, query.status());
  const auto& [selector, limit] = *query;
  auto rows = cache.list(selector, limit + 1);
  if (!rows.is_ok()) return reply_error(call.res, rows.status());
  const bool truncated = rows->size() > limit;
  if (truncated) rows->pop_back();
  nlohmann::json entries = nlohmann::json::array();
  for (const ListedEntry& row : *rows) {
    entries.push_back({{"key", row.key.id()},
                       {"created_ms", row.created_ms},
                       {"expires_ms", row.expires_ms == 0 ? nlohmann::json(nullptr)
                                                          : nlohmann::json(row.expires_ms)},
                       {"bytes", row.value_bytes},
                       {"tags", row.tags}});
  }
  const nlohmann::json doc = {{"namespace", *ns},
                              {"entries", std::move(entries)},
                              {"truncated", truncated},
                              {"now_ms", cache.clock().now_ms()}};
  reply_json(call.res, http::status::ok,
             doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void get_entry(Cache& cache, AccessLog* log, Call& call, const CacheKey& key) {
  const Lookup hit = cache.get(key);
  log_lookup(log, key, hit);
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

void put_entry(Cache& cache, AccessLog* log, Call& call, const CacheKey& key) {
  auto options = query_options(call.query);
  if (!options.is_ok()) return reply_error(call.res, options.status());
  if (Status s = check_json_text(call.req.body()); !s.is_ok()) return reply_error(call.res, s);
  auto value = std::make_shared<const Bytes>(call.req.body());
  const uint64_t size = value->size();
  if (Status s = cache.put(key, std::move(value), *options); !s.is_ok()) {
    return reply_error(call.res, s);
  }
  if (log != nullptr) log->record_put(key, size, options->compute_ms);
  reply_json(call.res, http::status::created,
             R"({"namespace":)" + json_quote(key.ns()) + R"(,"key":)" + json_quote(key.id()) + "}");
}

void delete_entry(Cache& cache, Call& call, const CacheKey& key) {
  auto removed = cache.erase(key);
  if (!removed.is_ok()) return reply_error(call.res, removed.status());
  reply_json(call.res, http::status::ok, *removed ? R"({"removed":true})" : R"({"removed":false})");
}

}  // namespace

void handle_entries(Cache& cache, AccessLog* log, Call& call) {
  if (call.req.method() == http::verb::get && call.rest.find('/') == std::string_view::npos) {
    return list_entries(cache, call, call.rest);
  }
  auto key = entry_key(call.rest);
  if (!key.is_ok()) return reply_error(call.res, key.status());
  switch (call.req.method()) {
    case http::verb::get:
      return get_entry(cache, log, call, *key);
    case http::verb::put:
      return put_entry(cache, log, call, *key);
    default:
      return delete_entry(cache, call, *key);
  }
}

}  // namespace plancache::internal
