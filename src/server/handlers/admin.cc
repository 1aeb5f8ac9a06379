// POST /v1/invalidate, POST /v1/clear and POST /v1/evict.
//
// These remove entries, so their bodies are strict: an unknown field is an
// error rather than ignored ({"namespace":"a","tagg":"x"} must not clear
// the whole namespace). Invalidation fields are ANDed (Selector semantics).
#include <initializer_list>
#include <limits>

#include "core/selector_match.h"
#include "server/handlers/handlers.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr double kDefaultEvictFraction = 0.1;

Status reject_unknown_fields(const json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : body.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || name == a;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Status::invalid_argument("unknown field " + json_quote(name) + " (expected " + list +
                                      ")");
    }
  }
  return Status::ok();
}

// The body of clear / evict: absent or an object with only `allowed` fields.
Result<json> optional_object_body(const HttpRequest& req,
                                  std::initializer_list<std::string_view> allowed) {
  if (req.body().empty()) return json::object();
  auto body = parse_json_body(req.body());
  if (!body.is_ok()) return body.status();
  PLANCACHE_RETURN_IF_ERROR(require_object(*body, "request body"));
  PLANCACHE_RETURN_IF_ERROR(reject_unknown_fields(*body, allowed));
  return body;
}

Status read_optional_namespace(const json& body, std::optional<std::string>* ns) {
  auto value = optional_string(body, "namespace");
  if (!value.is_ok()) return value.status();
  if (*value) PLANCACHE_RETURN_IF_ERROR(validate_namespace(**value));
  *ns = std::move(value).value();
  return Status::ok();
}

Result<Selector> read_selector(const json& body, int64_t now_ms) {
  PLANCACHE_RETURN_IF_ERROR(require_object(body, "request body"));
  PLANCACHE_RETURN_IF_ERROR(
      reject_unknown_fields(body, {"tag", "prefix", "pattern", "older_than_s", "namespace"}));
  Selector selector;
  PLANCACHE_RETURN_IF_ERROR(read_optional_namespace(body, &selector.ns));
  for (auto [field, member] :
       {std::pair{"tag", &Selector::tag}, std::pair{"prefix", &Selector::prefix},
        std::pair{"pattern", &Selector::pattern}}) {
    auto value = optional_string(body, field);
    if (!value.is_ok()) return value.status();
    if (*value) PLANCACHE_RETURN_IF_ERROR(validate_tag(**value, field));
    selector.*member = std::move(value).value();
  }
  auto age =
      optional_non_negative(body, "older_than_s", std::numeric_limits<int64_t>::max() / 1000);
  if (!age.is_ok()) return age.status();
  if (*age) selector.created_before_ms = now_ms - **age * 1000;
  if (selector.empty()) {
    return Status::invalid_argument(
        "give at least one of tag, prefix, pattern, older_than_s or namespace");
  }
  PLANCACHE_RETURN_IF_ERROR(validate_selector(selector));
  return selector;
}

}  // namespace

void handle_invalidate(Cache& cache, Call& call) {
  auto body = parse_json_body(call.req.body());
  if (!body.is_ok()) return reply_error(call.res, body.status());
  auto selector = read_selector(*body, cache.clock().now_ms());
  if (!selector.is_ok()) return reply_error(call.res, selector.status());
  auto n = cache.invalidate(*selector);
  if (!n.is_ok()) return reply_error(call.res, n.status());
  reply_json(call.res, http::status::ok, R"({"invalidated":)" + std::to_string(*n) + "}");
}

void handle_clear(Cache& cache, Call& call) {
  auto body = optional_object_body(call.req, {"namespace"});
  if (!body.is_ok()) return reply_error(call.res, body.status());
  std::optional<std::string> ns;
  if (Status s = read_optional_namespace(*body, &ns); !s.is_ok()) return reply_error(call.res, s);
  Result<uint64_t> n = uint64_t{0};
  if (ns) {
    Selector selector;
    selector.ns = ns;
    n = cache.invalidate(selector);
  } else {
    n = cache.clear();
  }
  if (!n.is_ok()) return reply_error(call.res, n.status());
  reply_json(call.res, http::status::ok, R"({"cleared":)" + std::to_string(*n) + "}");
}

void handle_evict(Cache& cache, Call& call) {
  auto body = optional_object_body(call.req, {"fraction"});
  if (!body.is_ok()) return reply_error(call.res, body.status());
  double fraction = kDefaultEvictFraction;
  if (const auto it = body->find("fraction"); it != body->end()) {
    if (!it->is_number() || !(it->get<double>() > 0.0 && it->get<double>() <= 1.0)) {
      return reply_error(call.res,
                         Status::invalid_argument("field 'fraction' must be a number in (0, 1]"));
    }
    fraction = it->get<double>();
  }
  auto n = cache.evict_fraction(fraction);
  if (!n.is_ok()) return reply_error(call.res, n.status());
  reply_json(call.res, http::status::ok, R"({"evicted":)" + std::to_string(*n) + "}");
}

}  // namespace plancache::internal
