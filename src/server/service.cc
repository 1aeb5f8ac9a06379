// Service: routes each request to its handler, handing it the narrow
// context it uses (built once, here, from the Runtime), and counts every
// answer, deferred ones through CountedChannel.
#include "server/service.h"

#include <boost/asio/post.hpp>

#include "server/errors.h"
#include "server/request_framing.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

// Counts a deferred answer in the HTTP counters when its status is known.
class CountedChannel final : public ReplyChannel {
 public:
  CountedChannel(std::shared_ptr<ReplyChannel> inner, Route route, HttpCounters& counters)
      : inner_(std::move(inner)), route_(route), counters_(counters) {}
  void reply(HttpResponse res) override {
    counters_.record(route_, res.result_int());
    inner_->reply(std::move(res));
  }
  void open_stream(HttpResponse head, std::chrono::milliseconds heartbeat_interval,
                   std::string heartbeat) override {
    counters_.record(route_, head.result_int());
    inner_->open_stream(std::move(head), heartbeat_interval, std::move(heartbeat));
  }
  void write_chunk(std::string data) override { inner_->write_chunk(std::move(data)); }
  void send_chunk(std::string data, std::function<void(bool)> done) override {
    inner_->send_chunk(std::move(data), std::move(done));
  }
  void limit_send_buffer(uint32_t bytes) override { inner_->limit_send_buffer(bytes); }
  void end_stream(std::string data) override { inner_->end_stream(std::move(data)); }

 private:
  std::shared_ptr<ReplyChannel> inner_;
  Route route_;
  HttpCounters& counters_;
};

// The query string of a request's target ("" when none).
std::string_view query_of(const HttpRequest& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

}  // namespace

Service::Service(Runtime& runtime, const server::ServerConfig& config, HttpCounters& http,
                 const DrainFlag& draining)
    : cache_(*runtime.cache),
      shared_calls_(runtime.shared_calls.get()),
      http_(http),
      tokens_{config.admin_token, config.api_token},
      plans_{.cache = *runtime.cache,
             .keys = runtime.keys,
             .policies = *runtime.policies,
             .planning = runtime.planning.get(),
             .leases = runtime.leases.get(),
             .access_log = runtime.access_log.get(),
             .shared_calls = runtime.shared_calls.get(),
             .cache_enabled = config.cache_enabled,
             .sse_heartbeat = std::chrono::milliseconds(config.sse_heartbeat_ms),
             .near_miss = runtime.near_miss.get(),
             .predictions = runtime.predictions.get()},
      info_{.cache = *runtime.cache,
            .http = http,
            .policies = *runtime.policies,
            .planning = runtime.planning.get(),
            .stats_max_namespaces = config.stats_max_namespaces,
            .started_ns = runtime.cache->clock().monotonic_ns(),
            .draining = draining,
            .access_log = runtime.access_log.get(),
            .background = runtime.background.get(),
            .history = runtime.stats_history.get(),
            .memory = runtime.memory_watchdog.get(),
            .near_miss = runtime.near_miss.get(),
            .events = runtime.events.get()},
      events_(*runtime.events) {}

bool Service::handle(const HttpRequest& req, HttpResponse& res, const DeferFn& open_channel) {
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  const RouteMatch match = match_route(path);
  // One pointer captured: the std::function needs no allocation.
  struct Deferral {
    const DeferFn& open;
    Route route;
    HttpCounters& counters;
    bool deferred = false;
  } deferral{open_channel, match.route, http_};
  Call call{req, match.rest, query, res, [d = &deferral]() -> std::shared_ptr<ReplyChannel> {
              d->deferred = true;
              return std::make_shared<CountedChannel>(d->open(), d->route, d->counters);
            }};
  if (shared_calls_ != nullptr && runs_off_loop(match.route, req)) {
    dispatch_off_loop(match.route, call);
    return true;
  }
  dispatch(match.route, call);  // screen_head let it through
  if (deferral.deferred) return true;
  http_.record(match.route, res.result_int());
  return false;
}

bool Service::refuse(const HttpRequest& head, Route route, HttpResponse& res) {
  if (route == Route::kNotFound) {
    reply_error(res, Status::not_found("no such endpoint"));
  } else if (!method_allowed(route, head.method())) {
    reply_error(res, http::status::method_not_allowed, "method_not_allowed",
                "method not allowed; allowed: " + std::string(allowed_methods(route)));
    res.set(http::field::allow, std::string(allowed_methods(route)));
  } else if (Status auth = authorize(request_guard(route, query_of(head)), head, tokens_);
             !auth.is_ok()) {
    reply_error(res, auth);
    if (auth.code() == StatusCode::kUnauthenticated) {
      res.set(http::field::www_authenticate, "Bearer");
    }
  } else {
    return false;
  }
  return true;
}

Service::HeadCheck Service::screen_head(const HttpRequest& head, HttpResponse& res) {
  if (Status framing = check_request_framing(head); !framing.is_ok()) {
    reply_error(res, framing);
    http_.record(Route::kUnparsed, res.result_int());
    return HeadCheck::kMisframed;
  }
  const std::string_view target(head.target().data(), head.target().size());
  const Route route = match_route(target.substr(0, target.find('?'))).route;
  if (!refuse(head, route, res)) return HeadCheck::kPass;
  http_.record(route, res.result_int());
  return HeadCheck::kRefused;
}

void Service::dispatch(Route route, Call& call) {
  try {
    switch (route) {
      case Route::kPlansLookup:
        return handle_plans_lookup(plans_, call);
      case Route::kPlans:
        return handle_plans(plans_, call);
      case Route::kPlanLease:
        return handle_plan_lease(plans_, call);
      case Route::kInvalidate:
        return handle_invalidate(cache_, plans_.near_miss, call);
      case Route::kEntries:
        return handle_entries(cache_, plans_.access_log, call);
      case Route::kClear:
        return handle_clear(cache_, plans_.near_miss, call);
      case Route::kEvict:
        return handle_evict(cache_, call);
      case Route::kStats:
        return handle_stats(info_, call);
      case Route::kMetrics:
        return handle_metrics(info_, call);
      case Route::kAdvice:
        return handle_advice(info_, call);
      case Route::kHealthz:
        return handle_healthz(call);
      case Route::kReadyz:
        return handle_readyz(info_, call);
      case Route::kHistory:
        return handle_stats_history(info_, call);
      case Route::kUi:
        return handle_ui(call);
      case Route::kCacheClearAlias:
        return handle_cache_clear_alias(cache_, plans_.near_miss, call);
      case Route::kPlanCacheClearAlias:
        return handle_plan_cache_clear_alias(plans_, call);
      case Route::kPredict:
        return handle_predict(plans_.predictions, *info_.background, call);
      case Route::kEvents:
        return handle_events(events_, call);
      case Route::kNotFound:
      case Route::kUnparsed:
        break;
    }
    reply_error(call.res, Status::not_found("no such endpoint"));
  } catch (const std::exception& e) {
    // A bug or an allocation failure; never let it reach the I/O loop.
    reply_error(call.res, Status::internal(std::string("internal error: ") + e.what()));
  }
}

bool Service::runs_off_loop(Route route, const HttpRequest& req) const {
  switch (route) {
    case Route::kPlans:      // POST (read-through) looks up locally first itself
    case Route::kPlanLease:  // POST (acquire, renew) too; DELETE may reach Redis
      return req.method() != http::verb::post;
    case Route::kInvalidate:
    case Route::kEntries:
    case Route::kClear:
    case Route::kEvict:
    case Route::kCacheClearAlias:
    case Route::kPlanCacheClearAlias:
      return true;
    default:  // lookups go local first (handlers.h); info routes never wait
      return false;
  }
}

// The request object stays valid until the channel answers (reply_channel.h).
void Service::dispatch_off_loop(Route route, Call& call) {
  std::shared_ptr<ReplyChannel> channel = call.defer();
  boost::asio::post(*shared_calls_, [this, route, &req = call.req, rest = call.rest,
                                     query = call.query, channel] {
    HttpResponse res;
    bool deferred = false;
    Call off{req, rest, query, res, [&deferred, &channel] {
               deferred = true;
               return channel;
             }};
    dispatch(route, off);
    if (!deferred) channel->reply(std::move(res));
  });
}

void Service::reject_unparsed(HttpResponse& res, http::status status, std::string_view code,
                              std::string_view message) {
  reply_error(res, status, code, message);
  http_.record(Route::kUnparsed, res.result_int());
}

}  // namespace plancache::internal
