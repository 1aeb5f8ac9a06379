// POST /v1/invalidate, POST /v1/clear and POST /v1/evict, and the old
// designs' aliases over them (POST /api/cache/clear/{name},
// POST /api/plan-cache/clear; POST /api/cache/evict is /v1/evict's route).
//
// These remove entries, so their bodies are strict: an unknown field is an
// error rather than ignored ({"namespace":"a","tagg":"x"} must not clear
// the whole namespace). Invalidation fields are ANDed (Selector semantics).
#include <charconv>
#include <initializer_list>
#include <limits>

#include "core/selector_match.h"
#include "core/utf8.h"
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
    if (!known && allowed.size() == 0) {
      return Status::invalid_argument("unknown field " + json_quote(name) +
                                      " (this endpoint takes no body fields)");
    }
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

// POST /v1/clear once its input is read: one namespace (validated) or all.
void clear_namespace(Cache& cache, NearMiss* near_miss, const std::optional<std::string>& ns,
                     HttpResponse& res) {
  Result<uint64_t> n = uint64_t{0};
  if (ns) {
    Selector selector;
    selector.ns = ns;
    n = cache.invalidate(selector);
  } else {
    n = cache.clear();
  }
  if (!n.is_ok()) return reply_error(res, n.status());
  if (near_miss != nullptr) near_miss->cleared(ns);
  reply_json(res, http::status::ok, R"({"cleared":)" + std::to_string(*n) + "}");
}

// The share POST /v1/evict evicts: the body's "fraction" or the query's
// (?fraction=, as POST /api/cache/evict callers send it), not both.
Result<double> evict_fraction(const json& body, std::string_view query) {
  std::optional<double> given;
  const Status bad = Status::invalid_argument("field 'fraction' must be a number in (0, 1]");
  if (const auto it = body.find("fraction"); it != body.end()) {
    if (!it->is_number()) return bad;
    given = it->get<double>();
  }
  auto params = parse_query(query);
  if (!params.is_ok()) return params.status();
  for (const auto& [name, value] : *params) {
    if (name != "fraction") {
      return Status::invalid_argument("unknown query parameter " + json_quote(name) +
                                      " (expected fraction)");
    }
    if (given) return Status::invalid_argument("give 'fraction' once, in the body or the query");
    double x = 0;
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, x);
    if (value.empty() || ec != std::errc() || ptr != end) return bad;
    given = x;
  }
  const double fraction = given.value_or(kDefaultEvictFraction);
  if (!(fraction > 0.0 && fraction <= 1.0)) return bad;
  return fraction;
}

// The query of POST /api/plan-cache/clear: goal and project_context, each at
// most once, valid UTF-8 without NUL; a non-empty project_context only with
// a goal.
struct PlanCacheClearQuery {
  std::optional<std::string> goal;
  std::optional<std::string> project_context;
};

Result<PlanCacheClearQuery> plan_cache_clear_query(std::string_view query) {
  auto params = parse_query(query);
  if (!params.is_ok()) return params.status();
  PlanCacheClearQuery out;
  for (auto& [name, value] : *params) {
    std::optional<std::string>* slot = name == "goal"              ? &out.goal
                                       : name == "project_context" ? &out.project_context
                                                                   : nullptr;
    if (slot == nullptr) {
      return Status::invalid_argument("unknown query parameter " + json_quote(name) +
                                      " (expected goal, project_context)");
    }
    if (*slot) return Status::invalid_argument("query parameter '" + name + "' given twice");
    if (!is_valid_utf8(value) || value.find('\0') != std::string::npos) {
      return Status::invalid_argument("query parameter '" + name +
                                      "' must be UTF-8 text without NUL bytes");
    }
    *slot = std::move(value);
  }
  // As the chat backend's `if goal:`, an empty goal is none (the SPEC's form
  // "?goal=&project_context=" clears the namespace), and so is an empty
  // project_context beside it.
  if (out.goal && out.goal->empty()) out.goal.reset();
  if (!out.goal && out.project_context && out.project_context->empty()) {
    out.project_context.reset();
  }
  if (out.project_context && !out.goal) {
    return Status::invalid_argument(
        "query parameter 'project_context' needs 'goal' (without a goal the whole plan "
        "namespace is cleared)");
  }
  return out;
}

}  // namespace

void handle_invalidate(Cache& cache, NearMiss* near_miss, Call& call) {
  auto body = parse_json_body(call.req.body());
  if (!body.is_ok()) return reply_error(call.res, body.status());
  auto selector = read_selector(*body, cache.clock().now_ms());
  if (!selector.is_ok()) return reply_error(call.res, selector.status());
  auto n = cache.invalidate(*selector);
  if (!n.is_ok()) return reply_error(call.res, n.status());
  // A whole namespace went (for other selectors L1's removal listener tells).
  const Selector& s = *selector;
  if (near_miss != nullptr && !s.tag && !s.prefix && !s.pattern && !s.created_before_ms) {
    near_miss->cleared(s.ns);
  }
  reply_json(call.res, http::status::ok, R"({"invalidated":)" + std::to_string(*n) + "}");
}

void handle_clear(Cache& cache, NearMiss* near_miss, Call& call) {
  auto body = optional_object_body(call.req, {"namespace"});
  if (!body.is_ok()) return reply_error(call.res, body.status());
  std::optional<std::string> ns;
  if (Status s = read_optional_namespace(*body, &ns); !s.is_ok()) return reply_error(call.res, s);
  clear_namespace(cache, near_miss, ns, call.res);
}

void handle_evict(Cache& cache, Call& call) {
  auto body = optional_object_body(call.req, {"fraction"});
  if (!body.is_ok()) return reply_error(call.res, body.status());
  auto fraction = evict_fraction(*body, call.query);
  if (!fraction.is_ok()) return reply_error(call.res, fraction.status());
  const ScopedEvictionCause evicted(EventCause::kEvicted);  // on the event stream
  auto n = cache.evict_fraction(*fraction);
  if (!n.is_ok()) return reply_error(call.res, n.status());
  reply_json(call.res, http::status::ok, R"({"evicted":)" + std::to_string(*n) + "}");
}

// The old designs' endpoints (SPEC §1). Neither takes a body: one that is
// not empty or {} is refused, so that a goal sent in a body cannot clear a
// whole namespace by mistake.
void handle_cache_clear_alias(Cache& cache, NearMiss* near_miss, Call& call) {
  auto body = optional_object_body(call.req, {});
  if (!body.is_ok()) return reply_error(call.res, body.status());
  if (!call.query.empty()) {
    return reply_error(call.res, Status::invalid_argument("this endpoint takes no query"));
  }
  const std::optional<std::string> name = percent_decode(call.rest, /*plus_is_space=*/false);
  if (!name) {
    return reply_error(call.res,
                       Status::invalid_argument("malformed %-escape in the namespace of the path"));
  }
  if (Status s = validate_namespace(*name); !s.is_ok()) return reply_error(call.res, s);
  clear_namespace(cache, near_miss, *name, call.res);
}

// The chat backend's key was sha256(goal + ":" + project_context): here the
// plan of (goal, context = the JSON string project_context) in "default",
// which is what a PUT /v1/plans with that string as its context stored.
void handle_plan_cache_clear_alias(const PlanHandlers& h, Call& call) {
  auto body = optional_object_body(call.req, {});
  if (!body.is_ok()) return reply_error(call.res, body.status());
  auto query = plan_cache_clear_query(call.query);
  if (!query.is_ok()) return reply_error(call.res, query.status());
  if (!query->goal) return clear_namespace(h.cache, h.near_miss, "default", call.res);
  json fields_body = {{"goal", *query->goal}};  // validated as DELETE /v1/plans's body
  if (query->project_context) fields_body["context"] = *query->project_context;
  auto fields = parse_plan_fields(fields_body);
  if (!fields.is_ok()) return reply_error(call.res, fields.status());
  auto key = plan_key_of(h.keys, *fields);
  if (!key.is_ok()) return reply_error(call.res, key.status());
  erase_plan(h, *key, call.res);
}

}  // namespace plancache::internal
