// GET /v1/advice[?target=0.9]: sizing, policy and TTL advice per lane from
// the sampled access log (sim/advice.h; docs/http_api.md "Advice"). The
// replay takes a while for a large log, so it runs on the background pool,
// never on an I/O thread; 409 when the server has no access log.
#include <boost/asio/post.hpp>

#include "server/handlers/handlers.h"
#include "sim/advice.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

json lane_json(const LaneAdvice& a) {
  json by_policy = json::object();
  for (const auto& [policy, saved] : a.saved_per_day_by_policy) {
    by_policy[std::string(sim_policy_name(policy))] = saved;
  }
  json out = {
      {"namespace", a.ns},
      {"sampled_requests", a.requests},
      {"sampled_keys", a.unique_keys},
      {"span_s", a.span_s},
      {"size", {{"max_entries", a.entries}, {"max_bytes", a.bytes}, {"hit_rate", a.hit_rate},
                {"basis", a.size_basis}}},
      {"policy", {{"eviction", std::string(sim_policy_name(a.policy))},
                  {"planner_seconds_saved_per_day", by_policy},
                  {"basis", a.policy_basis}}},
      {"ttl", {{"ttl_s", a.ttl_s ? json(*a.ttl_s) : json(nullptr)}, {"basis", a.ttl_basis}}},
      {"planner_seconds_saved_per_day", a.planner_seconds_saved_per_day},
  };
  if (a.current_entries > 0) {
    out["now"] = {{"max_entries", a.current_entries},
                  {"hit_rate", a.current_hit_rate},
                  {"planner_seconds_saved_per_day", a.current_saved_per_day}};
  }
  return out;
}

Result<std::optional<double>> target_of(std::string_view query) {
  auto params = parse_query(query);
  if (!params.is_ok()) return params.status();
  std::optional<double> target;
  for (const auto& [name, value] : *params) {
    if (name != "target") {
      return Status::invalid_argument("unknown query parameter '" + name + "' (expected target)");
    }
    char* end = nullptr;
    const double t = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || !(t > 0 && t < 1)) {
      return Status::invalid_argument("target must be a hit rate between 0 and 1, e.g. 0.8");
    }
    target = t;
  }
  return target;
}

}  // namespace

void handle_advice(const InfoHandlers& h, Call& call) {
  if (h.access_log == nullptr) {
    return reply_error(call.res, Status::failed_precondition(
                                     "advice needs the access log: start the server with "
                                     "--access-log FILE (and --access-log-sample, default 0.1)"));
  }
  auto target = target_of(call.query);
  if (!target.is_ok()) return reply_error(call.res, target.status());
  AdviceOptions options;
  options.paths = {h.access_log->path() + ".1", h.access_log->path()};
  options.sample = h.access_log->sample();
  options.target_hit_rate = *target;
  options.current = &h.policies;
  boost::asio::post(*h.background, [options = std::move(options), channel = call.defer()] {
    HttpResponse res;
    auto advice = advise_from_access_log(options);
    if (!advice.is_ok()) {
      reply_error(res, advice.status());
      return channel->reply(std::move(res));
    }
    json lanes = json::array();
    for (const LaneAdvice& lane : advice->lanes) lanes.push_back(lane_json(lane));
    const json doc = {{"access_log", {{"paths", options.paths},
                                      {"sample", advice->sample},
                                      {"lines", advice->lines}}},
                      {"lanes", std::move(lanes)}};
    reply_json(res, http::status::ok, doc.dump(-1, ' ', false, json::error_handler_t::replace));
    channel->reply(std::move(res));
  });
}

}  // namespace plancache::internal
