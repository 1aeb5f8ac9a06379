// The plan endpoints: POST /v1/plans/lookup, PUT / POST / DELETE /v1/plans.
//
// A lookup hit is the hot path of the server. Its answer is built by splicing
// the stored plan bytes (the plan's JSON text, kept verbatim at PUT time)
// into the response text: the plan is never parsed or re-serialised on a
// hit, and the namespace and key need no escaping (both are validated to a
// JSON-safe alphabet).
#include <boost/asio/post.hpp>
#include <limits>

#include "core/key_builder_internal.h"
#include "server/handlers/handlers.h"
#include "server/handlers/near_miss_answers.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr int64_t kMaxTtlS = std::numeric_limits<int64_t>::max() / 1000;

}  // namespace

void reply_hit(HttpResponse& res, const PlanKey& key, const Entry& entry, std::string_view tier,
               std::string_view lead) {
  std::string& out = res.body();
  out.clear();
  out.reserve(entry.value->size() + 192);
  out += lead;
  out += R"("hit":true,"key":")";
  out += key.key.id();
  out += R"(","namespace":")";
  out += key.key.ns();
  out += R"(","tier":")";
  out += tier;
  out += R"(","plan":)";
  out += *entry.value;
  out += R"(,"created_ms":)";
  append_int(out, entry.meta.created_ms);
  out += R"(,"expires_ms":)";
  if (entry.meta.expires_ms == 0) {
    out += "null";
  } else {
    append_int(out, entry.meta.expires_ms);
  }
  out += R"(,"compute_ms":)";
  append_int(out, entry.meta.compute_ms);
  out += R"(,"tags":[)";
  for (size_t i = 0; i < entry.meta.tags.size(); ++i) {
    if (i != 0) out += ',';
    append_json_quoted(out, entry.meta.tags[i]);
  }
  out += ']';
  if (entry.meta.priority != EntryPriority::kNormal) {  // only when a hint was given
    out += R"(,"priority":")";
    out += entry_priority_name(entry.meta.priority);
    out += '"';
  }
  out += '}';
  res.result(http::status::ok);
  res.set(http::field::content_type, "application/json");
}

namespace {

}  // namespace

void reply_key(HttpResponse& res, http::status status, std::string_view prefix, const PlanKey& key,
               std::string_view suffix) {
  std::string body(prefix);
  body += R"("key":")";
  body += key.key.id();
  body += R"(","namespace":")";
  body += key.key.ns();
  body += '"';
  body += suffix;
  reply_json(res, status, std::move(body));
}

namespace {

Result<PutOptions> put_options(const json& body) {
  PutOptions options;
  auto ttl = optional_non_negative(body, "ttl_s", kMaxTtlS);
  if (!ttl.is_ok()) return ttl.status();
  if (*ttl) options.ttl_ms = **ttl * 1000;
  auto compute = optional_non_negative(body, "compute_ms", std::numeric_limits<uint32_t>::max());
  if (!compute.is_ok()) return compute.status();
  if (*compute) options.compute_ms = static_cast<uint32_t>(**compute);
  auto tags = optional_tags(body);
  if (!tags.is_ok()) return tags.status();
  options.tags = std::move(tags).value();
  auto priority = optional_string(body, "priority");
  if (!priority.is_ok()) return priority.status();
  if (*priority) {
    auto parsed = parse_priority(**priority, "priority");
    if (!parsed.is_ok()) return parsed.status();
    options.priority = *parsed;
  }
  return options;
}

void put_plan(const PlanHandlers& h, Call& call) {
  json body;
  auto key = read_plan_key(h.keys, call, &body);
  if (!key) return;
  const auto plan = body.find("plan");
  if (plan == body.end()) {
    return reply_error(call.res, Status::invalid_argument("field 'plan' is required"));
  }
  auto options = put_options(body);
  if (!options.is_ok()) return reply_error(call.res, options.status());
  if (body.contains("lease_token")) {
    return put_leased_plan(h, call, *key, body, std::move(options).value());
  }
  if (!h.cache_enabled) {
    return reply_key(
        call.res, http::status::ok, "{", *key,
        R"j(,"stored":false,"reason":"the cache is disabled (cache_enabled=false)"})j");
  }
  // The namespace's min_compute_ms (the default namespace's is
  // --min-compute-ms).
  if (body.contains("compute_ms") &&
      !h.policies.get(key->key.ns()).worth_storing(options->compute_ms)) {
    return reply_key(call.res, http::status::ok, "{", *key,
                     R"(,"stored":false,"reason":"compute_ms is below min_compute_ms"})");
  }
  auto value = std::make_shared<const Bytes>(plan->dump());
  const uint64_t size = value->size();
  if (Status s = h.cache.put(key->key, std::move(value), *options); !s.is_ok()) {
    return reply_error(call.res, s);
  }
  if (h.access_log != nullptr) h.access_log->record_put(key->key, size, options->compute_ms);
  if (h.near_miss != nullptr) h.near_miss->stored(*key, options->compute_ms);
  reply_key(call.res, http::status::created, "{", *key, R"(,"stored":true})");
}

void delete_plan(const PlanHandlers& h, Call& call) {
  json body;
  auto key = read_plan_key(h.keys, call, &body);
  if (!key) return;
  erase_plan(h, *key, call.res);
}

}  // namespace

void erase_plan(const PlanHandlers& h, const PlanKey& key, HttpResponse& res) {
  auto removed = h.cache.erase(key.key);
  if (!removed.is_ok()) return reply_error(res, removed.status());
  reply_key(res, http::status::ok, *removed ? R"({"removed":true,)" : R"({"removed":false,)", key,
            "}");
}

std::optional<PlanKey> read_plan_key(const LaneKeys& keys, Call& call, json* body) {
  auto parsed = parse_json_body(call.req.body());
  if (!parsed.is_ok()) {
    reply_error(call.res, parsed.status());
    return std::nullopt;
  }
  *body = std::move(parsed).value();
  auto fields = parse_plan_fields(*body);
  if (!fields.is_ok()) {
    reply_error(call.res, fields.status());
    return std::nullopt;
  }
  auto key = plan_key_of(keys, *fields);
  if (!key.is_ok()) {
    reply_error(call.res, key.status());
    return std::nullopt;
  }
  return std::move(key).value();
}

Result<PlanKey> plan_key_of(const LaneKeys& keys, const PlanFields& fields) {
  static const nlohmann::json kNull;
  return plan_key_from_json(keys.of(fields.ns), fields.ns, fields.goal,
                            fields.context == nullptr ? kNull : *fields.context);
}

// The answer to a lookup, hit or miss. In a lane with near-miss reuse a
// hit says "match":"exact", and a miss asks the similar-goal lookup (with
// the lookup's own `get` options) before it answers 404.
void reply_lookup(HttpResponse& res, const PlanKey& key, const Lookup& found, Cache& cache,
                  const NearMiss* near_miss, std::optional<double> min_score,
                  const GetOptions& get) {
  if (near_miss != nullptr) near_miss->requested(key, found, cache.clock().now_ms());
  if (found.hit()) {
    return reply_hit(res, key, *found.entry, found.tier,
                     hit_lead(exact_hit_members(near_miss, key.key.ns())));
  }
  const std::optional<SimilarFind> similar =
      near_miss != nullptr ? near_miss->find_similar(cache, key, min_score, get) : std::nullopt;
  if (similar && similar->served()) {
    return reply_hit(res, key, *similar->entry, similar->tier,
                     hit_lead(similar_hit_members(*similar)));
  }
  reply_key(res, http::status::not_found, R"({"hit":false,)", key,
            similar ? near_miss_members(similar->result) + "}" : "}");
}

void handle_plans_lookup(const PlanHandlers& h, Call& call) {
  json body;
  auto key = read_plan_key(h.keys, call, &body);
  if (!key) return;
  if (!h.cache_enabled) {
    return reply_key(call.res, http::status::not_found, R"({"hit":false,)", *key, "}");
  }
  auto min_score = similar_min_score(h.near_miss, key->key.ns(), body, call.query);
  if (!min_score.is_ok()) return reply_error(call.res, min_score.status());
  // The local tiers here, on the I/O thread; the shared tier on its pool.
  const GetOptions local_get{.local_only = h.shared_calls != nullptr};
  const Lookup local = h.cache.get(key->key, local_get);
  if (!local.shared_unasked) {
    log_lookup(h.access_log, key->key, local);
    return reply_lookup(call.res, *key, local, h.cache, h.near_miss, *min_score, local_get);
  }
  boost::asio::post(*h.shared_calls, [&cache = h.cache, log = h.access_log, channel = call.defer(),
                                      k = std::move(key).value(), near_miss = h.near_miss,
                                      min_score = *min_score] {
    HttpResponse res;
    const Lookup found = cache.get(k.key);
    log_lookup(log, k.key, found);
    reply_lookup(res, k, found, cache, near_miss, min_score, GetOptions{});
    channel->reply(std::move(res));
  });
}

void handle_plans(const PlanHandlers& h, Call& call) {
  switch (call.req.method()) {
    case http::verb::put:
      return put_plan(h, call);
    case http::verb::delete_:
      return delete_plan(h, call);
    default:
      return handle_read_through(h, call);
  }
}

}  // namespace plancache::internal
