// POST /v1/plans: read-through planning (docs/http_api.md).
//
// The lookup runs here, on the I/O thread: a fresh hit (or a stale one
// inside the namespace's stale-while-revalidate window) is answered at once,
// like /v1/plans/lookup. A miss defers the answer (reply_channel.h) and hands
// the key to Planning, i.e. to the read-through engine
// (cache/read_through_engine.h) with the namespace's planner as its compute
// function; the engine calls back from a pool thread and the callback writes
// the answer through the channel. Flights, stale windows and refresh-ahead
// are the engine's: this file only adapts its outcomes to HTTP and SSE. With
// `Accept: text/event-stream` the same answer is a Server-Sent Events stream:
//   status {"step":"lookup"}, status {"step":"plan_from_cache"|"planning"},
//   plan <the JSON answer>, done {"cached","tier","elapsed_ms"}
// with heartbeat comments while a plan is being computed, or an `error`
// event (the §3 error object) when planning fails after the stream began.
#include <boost/asio/post.hpp>
#include <functional>

#include "server/handlers/handlers.h"
#include "server/handlers/near_miss_answers.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr std::string_view kEventLookup = "event: status\ndata: {\"step\":\"lookup\"}\n\n";
constexpr std::string_view kEventFromCache =
    "event: status\ndata: {\"step\":\"plan_from_cache\"}\n\n";
constexpr std::string_view kEventPlanning = "event: status\ndata: {\"step\":\"planning\"}\n\n";
constexpr std::string_view kHeartbeat = ": heartbeat\n\n";

bool wants_event_stream(const HttpRequest& req) {
  const auto it = req.find(http::field::accept);
  return it != req.end() &&
         std::string_view(it->value().data(), it->value().size()).find("text/event-stream") !=
             std::string_view::npos;
}

// What one answer says, whichever way it is delivered.
struct Answer {
  const CacheKey& key;
  const Entry& entry;
  bool cached;
  std::string_view tier;  // "" when computed
  bool stale;
  bool coalesced;
  // Near-miss members (near_miss_answers.h), each preceded by a comma.
  std::string_view extra = {};
};

// {"plan","cached","tier"?,"key","namespace","compute_ms","stale"?,"coalesced"?}:
// the stored plan bytes are spliced in verbatim (valid compact JSON).
std::string answer_json(const Answer& a) {
  std::string out;
  out.reserve(a.entry.value->size() + 160);
  out += R"({"plan":)";
  out += *a.entry.value;
  out += a.cached ? R"(,"cached":true)" : R"(,"cached":false)";
  if (!a.tier.empty()) {
    out += R"(,"tier":")";
    out += a.tier;
    out += '"';
  }
  out += R"(,"key":")";
  out += a.key.id();
  out += R"(","namespace":")";
  out += a.key.ns();
  out += R"(","compute_ms":)";
  append_int(out, a.entry.meta.compute_ms);
  if (a.stale) out += R"(,"stale":true)";
  if (a.coalesced) out += R"(,"coalesced":true)";
  out += a.extra;
  out += '}';
  return out;
}

// The `plan` and `done` events that end a stream.
std::string closing_events(const Answer& a, int64_t elapsed_ms) {
  std::string out = "event: plan\ndata: " + answer_json(a) + "\n\nevent: done\ndata: {";
  out += a.cached ? R"("cached":true,"tier":)" : R"("cached":false,"tier":)";
  if (a.tier.empty()) {
    out += "null";
  } else {
    out += '"';
    out += a.tier;
    out += '"';
  }
  out += R"(,"elapsed_ms":)";
  append_int(out, elapsed_ms);
  out += "}\n\n";
  return out;
}

void start_event_stream(HttpResponse& res) {
  res.result(http::status::ok);
  res.set(http::field::content_type, "text/event-stream");
  res.set(http::field::cache_control, "no-cache");
}

Result<PlanRequest> plan_request_of(const json& body) {
  auto fields = parse_plan_fields(body);
  if (!fields.is_ok()) return fields.status();
  PlanRequest request;
  request.goal = std::move(fields->goal);
  request.ns = std::move(fields->ns);
  request.context_json = fields->context == nullptr ? "null" : fields->context->dump();
  return request;
}

// The answer to a lookup that found the plan (fresh, or stale while
// revalidating, or a similar goal's), whole: JSON, or the whole SSE stream.
void fill_found(HttpResponse& res, const Answer& a, bool sse, int64_t elapsed_ms) {
  if (!sse) return reply_json(res, http::status::ok, answer_json(a));
  start_event_stream(res);
  res.body() = std::string(kEventLookup) + std::string(kEventFromCache) +
               closing_events(a, elapsed_ms);
}

void answer_found(Call& call, const Answer& a, bool sse, int64_t elapsed_ms) {
  fill_found(call.res, a, sse, elapsed_ms);
}

// Called from a pool thread with the flight's outcome.
void deliver(ReplyChannel& channel, const CacheKey& key, const PlanOutcome& o,
             std::string_view stale_tier, bool sse, int64_t elapsed_ms, std::string_view extra) {
  if (o.entry == nullptr) {
    HttpResponse res;
    reply_error(res, o.error);
    if (!sse) return channel.reply(std::move(res));
    return channel.end_stream("event: error\ndata: " + res.body() + "\n\n");
  }
  const Answer a{key, *o.entry, o.cached, o.stale ? stale_tier : o.tier, o.stale, o.coalesced,
                 extra};
  if (sse) return channel.end_stream(closing_events(a, elapsed_ms));
  HttpResponse res;
  reply_json(res, http::status::ok, answer_json(a));
  channel.reply(std::move(res));
}

// No planner for the lane, and the local tiers missed: the shared tier may
// still have the plan. Asked on the shared-call pool; a miss is the 503.
template <typename Elapsed>
void answer_from_shared(const PlanHandlers& h, Call& call, PlanKey key, bool sse,
                        Elapsed elapsed_ms) {
  boost::asio::post(*h.shared_calls, [&cache = h.cache, channel = call.defer(),
                                      key = std::move(key), sse, elapsed_ms] {
    const Lookup found = cache.get(key.key);
    HttpResponse res;
    if (!found.hit()) {
      reply_error(res, Status::unavailable("no planner configured for namespace '" +
                                           std::string(key.key.ns()) +
                                           "' (--planner-url / --planner-cmd)"));
      return channel->reply(std::move(res));
    }
    fill_found(res, {key.key, *found.entry, true, found.tier, false, false}, sse, elapsed_ms());
    channel->reply(std::move(res));
  });
}

// What the jobs below need, copied into them: pointers into the Runtime
// (which outlives every job), never the handler context itself.
struct Flow {
  Cache* cache;
  Planning* planning;
  NearMiss* near_miss;
  AccessLog* log;
  std::chrono::milliseconds heartbeat;
  bool sse;
  std::function<int64_t()> elapsed_ms;
};

// Plans `key` (a miss) and answers through `channel` when the flight ends.
// `miss_members`: what the similar-goal lookup reported for the miss.
void start_planning(const Flow& f, const std::shared_ptr<ReplyChannel>& channel, PlanKey key,
                    PlanRequest request, EntryPtr stale, std::string_view stale_tier,
                    std::string miss_members) {
  if (f.sse) {
    HttpResponse head;
    start_event_stream(head);
    head.body() = std::string(kEventLookup) + std::string(kEventPlanning);
    channel->open_stream(std::move(head), f.heartbeat, std::string(kHeartbeat));
  }
  const PlanKey k = key;
  f.planning->plan(k, std::move(request), std::move(stale),
                   [f, channel, key = std::move(key), stale_tier,
                    miss = std::move(miss_members)](PlanOutcome o) {
                     const bool made_here = o.entry != nullptr && !o.cached && !o.coalesced;
                     // What the simulator needs of a miss: the plan's size and cost.
                     if (f.log != nullptr && made_here) {
                       f.log->record_put(key.key, o.entry->value->size(), o.entry->meta.compute_ms);
                     }
                     if (f.near_miss != nullptr && o.stored && !o.coalesced) {
                       f.near_miss->stored(key, o.entry->meta.compute_ms);
                     }
                     const std::string extra =
                         o.cached ? (o.stale ? std::string()
                                             : exact_hit_members(f.near_miss, key.key.ns()))
                                  : o.note + miss;
                     deliver(*channel, key.key, o, stale_tier, f.sse, f.elapsed_ms(), extra);
                   });
}

// A miss in a lane with similar-goal lookup whose shared tier is still to
// be asked: the exact key in every tier first, then the similar goal, then
// the planner -- on the shared-call pool, never on the I/O thread.
void plan_after_shared_lookup(const Flow& f, boost::asio::thread_pool& pool,
                              std::shared_ptr<ReplyChannel> channel, PlanKey key,
                              PlanRequest request, std::optional<double> min_score) {
  boost::asio::post(pool, [f, channel = std::move(channel), key = std::move(key),
                           request = std::move(request), min_score]() mutable {
    const Lookup found = f.cache->get(key.key, GetOptions{.allow_stale = true});
    f.near_miss->requested(key, found, f.cache->clock().now_ms());
    const std::string_view ns = key.key.ns();
    HttpResponse res;
    if (found.hit() && !found.stale) {
      const std::string extra = exact_hit_members(f.near_miss, ns);
      fill_found(res, {key.key, *found.entry, true, found.tier, false, false, extra}, f.sse,
                 f.elapsed_ms());
      return channel->reply(std::move(res));
    }
    const Clock& clock = f.cache->clock();
    if (found.hit() && f.planning->may_serve_while_revalidating(ns, *found.entry, clock.now_ms())) {
      f.planning->refresh(key.key, std::move(request));
      fill_found(res, {key.key, *found.entry, true, found.tier, true, false}, f.sse,
                 f.elapsed_ms());
      return channel->reply(std::move(res));
    }
    std::string miss;
    if (!found.hit()) {
      const std::optional<SimilarFind> similar =
          f.near_miss->find_similar(*f.cache, key, min_score, GetOptions{});
      if (similar && similar->served()) {
        const std::string extra = similar_hit_members(*similar);
        fill_found(res, {key.key, *similar->entry, true, similar->tier, false, false, extra}, f.sse,
                   f.elapsed_ms());
        return channel->reply(std::move(res));
      }
      if (similar) miss = near_miss_members(similar->result);
    }
    start_planning(f, channel, std::move(key), std::move(request),
                   found.hit() ? found.entry : nullptr, found.tier, std::move(miss));
  });
}

// Whether a miss of `ns` is to be looked up among similar goals before it
// is planned (not in shadow mode: that lane's flights compare instead).
bool serves_similar(const NearMiss* near_miss, std::string_view ns) {
  const NearMissLane* lane = near_miss != nullptr ? near_miss->lane(ns) : nullptr;
  return lane != nullptr && lane->policy.similar() && !lane->policy.similar_shadow;
}

// The similar-goal step of a miss whose lane does not use the shared tier,
// on the I/O thread: true when a neighbour's plan answered; otherwise *miss
// gets what the lookup reports.
bool answered_by_similar(const PlanHandlers& h, Call& call, const PlanKey& key,
                         std::optional<double> min_score, bool sse, int64_t elapsed_ms,
                         std::string* miss) {
  const GetOptions get{.local_only = h.shared_calls != nullptr};
  const std::optional<SimilarFind> similar = h.near_miss->find_similar(h.cache, key, min_score, get);
  if (similar && similar->served()) {
    const std::string extra = similar_hit_members(*similar);
    answer_found(call, {key.key, *similar->entry, true, similar->tier, false, false, extra}, sse,
                 elapsed_ms);
    return true;
  }
  if (similar) *miss = near_miss_members(similar->result);
  return false;
}

}  // namespace

void handle_read_through(const PlanHandlers& h, Call& call) {
  json body;
  auto key = read_plan_key(h.keys, call, &body);
  if (!key) return;
  auto min_score = similar_min_score(h.near_miss, key->key.ns(), body, call.query);
  if (!min_score.is_ok()) return reply_error(call.res, min_score.status());
  const Clock& clock = h.cache.clock();
  const int64_t start_ns = clock.monotonic_ns();
  const bool sse = wants_event_stream(call.req);
  Planning* planning = h.planning;
  Lookup found;
  const GetOptions local_get{.allow_stale = true, .local_only = h.shared_calls != nullptr};
  if (h.cache_enabled) {
    // Local tiers only on the I/O thread: a miss reaches the shared tier in
    // the flight's re-check (a pool thread), or below when nothing plans.
    found = h.cache.get(key->key, local_get);
  }
  if (h.cache_enabled && !found.shared_unasked) {
    log_lookup(h.access_log, key->key, found);
    if (h.near_miss != nullptr) h.near_miss->requested(*key, found, clock.now_ms());
  }
  const auto elapsed_ms = [&clock, start_ns] {
    return (clock.monotonic_ns() - start_ns) / 1'000'000;
  };
  const std::string_view ns = key->key.ns();
  if (found.shared_unasked && (planning->planner_for(ns) == nullptr)) {
    return answer_from_shared(h, call, std::move(key).value(), sse, elapsed_ms);
  }
  if (found.hit() && !found.stale) {
    if (planning->note_hit(key->key, *found.entry)) {
      if (auto request = plan_request_of(body); request.is_ok()) {
        planning->refresh(key->key, std::move(request).value());
      }
    }
    const std::string extra = exact_hit_members(h.near_miss, ns);
    return answer_found(call, {key->key, *found.entry, true, found.tier, false, false, extra}, sse,
                        elapsed_ms());
  }
  if (planning->planner_for(ns) == nullptr) {
    return reply_error(call.res, Status::unavailable(
                                     "no planner configured for namespace '" + std::string(ns) +
                                     "' (--planner-url / --planner-cmd)"));
  }
  auto request = plan_request_of(body);
  if (!request.is_ok()) return reply_error(call.res, request.status());
  if (found.hit() && planning->may_serve_while_revalidating(ns, *found.entry, clock.now_ms())) {
    planning->refresh(key->key, std::move(request).value());
    return answer_found(call, {key->key, *found.entry, true, found.tier, true, false}, sse,
                        elapsed_ms());
  }
  const Flow flow{&h.cache, planning, h.near_miss, h.access_log, h.sse_heartbeat, sse, elapsed_ms};
  std::string miss;
  if (h.cache_enabled && !found.hit() && serves_similar(h.near_miss, ns)) {
    if (found.shared_unasked) {
      return plan_after_shared_lookup(flow, *h.shared_calls, call.defer(), std::move(key).value(),
                                      std::move(request).value(), *min_score);
    }
    if (answered_by_similar(h, call, *key, *min_score, sse, elapsed_ms(), &miss)) return;
  }
  start_planning(flow, call.defer(), std::move(key).value(), std::move(request).value(),
                 found.hit() ? found.entry : nullptr, found.tier, std::move(miss));
}

}  // namespace plancache::internal
