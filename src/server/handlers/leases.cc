// POST / DELETE /v1/plans/lease and PUT /v1/plans with "lease_token": one
// computation per missing plan for callers that compute it themselves
// (docs/http_api.md, "Leases"). The flights and their rules are the
// read-through engine's (external flights), the waiting room PlanLeases';
// this file adapts them to HTTP.
//
//   POST {"goal","context"?,"namespace"?,"lease_ms"?,"wait_ms"?}
//     -> {"status":"hit",<lookup hit fields>}        the plan exists, or
//                                                     another holder made it
//     -> {"status":"lease","token","lease_ms",..}    compute it, then PUT
//     -> {"status":"pending",..}                     still computed: ask again
//   POST {..,"token"}    renews a held lease (409 lease_lost when not held)
//   DELETE {..,"token"}  gives it back: the next waiter gets it
//   PUT /v1/plans {..,"plan","lease_token"}  delivers the plan to every waiter
#include <boost/asio/post.hpp>

#include "server/handlers/handlers.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr int64_t kDefaultLeaseMs = 30'000;
constexpr int64_t kMinLeaseMs = 100;
constexpr int64_t kMaxLeaseMs = 600'000;
constexpr int64_t kDefaultWaitMs = 10'000;
constexpr int64_t kMinWaitMs = 100;
constexpr int64_t kMaxWaitMs = 60'000;

// The tier a waiter's answer names when the holder's PUT delivered it.
constexpr std::string_view kDeliveredTier = "lease";

void reply_lease_lost(HttpResponse& res) {
  reply_error(res, http::status::conflict, "lease_lost",
              "this lease is no longer held (it expired, was given back, or the server is "
              "stopping); ask for the plan again");
}

// A millisecond field within [min, max]; `fallback` when absent.
Result<int64_t> bounded_ms(const json& body, std::string_view field, int64_t fallback,
                           int64_t min, int64_t max) {
  auto v = optional_non_negative(body, field, max);
  if (!v.is_ok()) return v.status();
  if (!*v) return fallback;
  if (**v < min) {
    return Status::invalid_argument("field '" + std::string(field) + "' must be at least " +
                                    std::to_string(min));
  }
  return **v;
}

std::string lease_json(const PlanKey& key, std::string_view token, int64_t lease_ms) {
  std::string out = R"({"status":"lease","key":")";
  out += key.key.id();
  out += R"(","namespace":")";
  out += key.key.ns();
  out += R"(","token":")";
  out += token;  // hex digits: no escaping
  out += R"(","lease_ms":)";
  append_int(out, lease_ms);
  out += '}';
  return out;
}

// The answer to an acquire, from whatever thread the outcome came on.
void answer(ReplyChannel& channel, const PlanKey& key, int64_t lease_ms,
            const std::optional<ReadThroughOutcome>& o) {
  HttpResponse res;
  if (!o) {
    reply_key(res, http::status::ok, R"({"status":"pending",)", key, "}");
  } else if (!o->lease_token.empty()) {
    reply_json(res, http::status::ok, lease_json(key, o->lease_token, lease_ms));
  } else if (o->entry != nullptr) {
    reply_hit(res, key, *o->entry, o->cached ? o->tier : kDeliveredTier,
              o->coalesced ? R"({"status":"hit","coalesced":true,)" : R"({"status":"hit",)");
  } else {
    reply_error(res, o->error);
  }
  channel.reply(std::move(res));
}

void acquire(const PlanHandlers& h, Call& call, PlanKey key, int64_t lease_ms, int64_t wait_ms) {
  if (h.cache_enabled) {
    // The local tiers on the I/O thread: a hit needs no flight.
    const Lookup local =
        h.cache.get(key.key, GetOptions{.local_only = h.shared_calls != nullptr});
    log_lookup(h.access_log, key.key, local);
    if (local.hit()) {
      return reply_hit(call.res, key, *local.entry, local.tier, R"({"status":"hit",)");
    }
  }
  std::shared_ptr<ReplyChannel> channel = call.defer();
  const CacheKey k = key.key;
  h.leases->acquire(k, lease_ms, wait_ms,
                    [channel, key = std::move(key), lease_ms](std::optional<ReadThroughOutcome> o) {
                      answer(*channel, key, lease_ms, o);
                    });
}

Result<std::string> required_token(const json& body, std::string_view field) {
  auto token = optional_string(body, field);
  if (!token.is_ok()) return token.status();
  if (!*token || (*token)->empty()) {
    return Status::invalid_argument("field '" + std::string(field) + "' is required");
  }
  return std::move(**token);
}

}  // namespace

void handle_plan_lease(const PlanHandlers& h, Call& call) {
  json body;
  auto key = read_plan_key(h.keys, call, &body);
  if (!key) return;
  auto lease_ms = bounded_ms(body, "lease_ms", kDefaultLeaseMs, kMinLeaseMs, kMaxLeaseMs);
  if (!lease_ms.is_ok()) return reply_error(call.res, lease_ms.status());
  if (call.req.method() == http::verb::delete_) {
    auto token = required_token(body, "token");
    if (!token.is_ok()) return reply_error(call.res, token.status());
    if (!h.leases->release(key->key, *token)) return reply_lease_lost(call.res);
    return reply_key(call.res, http::status::ok, R"({"released":true,)", *key, "}");
  }
  if (body.contains("token")) {
    auto token = required_token(body, "token");
    if (!token.is_ok()) return reply_error(call.res, token.status());
    if (!h.leases->renew(key->key, *token, *lease_ms)) return reply_lease_lost(call.res);
    return reply_json(call.res, http::status::ok, lease_json(*key, *token, *lease_ms));
  }
  auto wait_ms = bounded_ms(body, "wait_ms", kDefaultWaitMs, kMinWaitMs, kMaxWaitMs);
  if (!wait_ms.is_ok()) return reply_error(call.res, wait_ms.status());
  acquire(h, call, std::move(key).value(), *lease_ms, *wait_ms);
}

void put_leased_plan(const PlanHandlers& h, Call& call, const PlanKey& key, const json& body,
                     PutOptions options) {
  auto token = required_token(body, "lease_token");
  if (!token.is_ok()) return reply_error(call.res, token.status());
  Computed computed{std::make_shared<const Bytes>(body.at("plan").dump()), std::move(options),
                    true};
  auto done = h.leases->complete(key.key, *token, std::move(computed));
  if (!done.is_ok()) {
    if (done.status().code() == StatusCode::kFailedPrecondition) return reply_lease_lost(call.res);
    return reply_error(call.res, done.status());
  }
  if (h.access_log != nullptr) {
    h.access_log->record_put(key.key, done->entry->value->size(), done->entry->meta.compute_ms);
  }
  if (done->stored) {
    if (h.near_miss != nullptr) h.near_miss->stored(key, done->entry->meta.compute_ms);
    return reply_key(call.res, http::status::created, "{", key, R"(,"stored":true})");
  }
  // Not stored, yet every waiter has the plan: why not.
  const std::string_view reason =
      !h.cache_enabled ? "the cache is disabled (cache_enabled=false)"
      : !h.policies.get(key.key.ns()).worth_storing(done->entry->meta.compute_ms)
          ? "compute_ms is below min_compute_ms"
          : "a tier refused it (see the server log); the waiters got the plan";
  reply_key(call.res, http::status::ok, "{", key,
            std::string(R"(,"stored":false,"reason":")") + std::string(reason) + "\"}");
}

}  // namespace plancache::internal
