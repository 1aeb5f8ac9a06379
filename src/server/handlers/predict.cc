// POST /v1/predict[?dry_run=1][&namespace=NS] (admin): one predictor pass
// now (predictions.h; docs/http_api.md, "Predictive pre-computation"), as
// `plancache warm --predict` asks for it. The pass runs on the background
// pool, never on an I/O thread; a dry run starts nothing and lists what a
// pass would start, with the reason and the confidence of each. 409 when
// no lane (or not the lane named) has predict = true.
#include <boost/asio/post.hpp>

#include "server/handlers/handlers.h"
#include "server/predictions.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

struct PredictQuery {
  bool dry_run = false;
  std::optional<std::string> ns;
};

Result<bool> flag_value(const std::string& name, const std::string& value) {
  if (value.empty() || value == "1" || value == "true") return true;
  if (value == "0" || value == "false") return false;
  return Status::invalid_argument("query parameter '" + name + "' must be 1, true, 0 or false");
}

Result<PredictQuery> predict_query(std::string_view query) {
  auto params = parse_query(query);
  if (!params.is_ok()) return params.status();
  PredictQuery out;
  for (const auto& [name, value] : *params) {
    if (name == "dry_run") {
      auto v = flag_value(name, value);
      if (!v.is_ok()) return v.status();
      out.dry_run = *v;
    } else if (name == "namespace") {
      out.ns = value;
    } else {
      return Status::invalid_argument("unknown query parameter '" + name +
                                      "' (expected dry_run, namespace)");
    }
  }
  return out;
}

}  // namespace

void handle_predict(Predictions* predictions, boost::asio::thread_pool& background, Call& call) {
  auto query = predict_query(call.query);
  if (!query.is_ok()) return reply_error(call.res, query.status());
  if (predictions == nullptr) {
    return reply_error(call.res,
                       Status::failed_precondition("no namespace has predict = true (set it in a "
                                                   "[namespaces.<name>] table of the config)"));
  }
  if (query->ns && !predictions->predicts(*query->ns)) {
    return reply_error(call.res, Status::failed_precondition("namespace '" + *query->ns +
                                                             "' does not have predict = true"));
  }
  boost::asio::post(
      background, [predictions, q = std::move(query).value(), channel = call.defer()] {
        const std::vector<PredictionItem> items = predictions->run_pass(
            q.dry_run, q.ns ? std::optional<std::string_view>(*q.ns) : std::nullopt);
        HttpResponse res;
        reply_json(res, http::status::ok,
                   Predictions::to_json(items, q.dry_run)
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        channel->reply(std::move(res));
      });
}

}  // namespace plancache::internal
