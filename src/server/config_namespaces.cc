// [namespaces.<name>] tables: one parser per key, each checking the TOML
// type and the range before it touches the policy, so that an error names
// the key and the value; NamespacePolicies::set then checks the policy as a
// whole (e.g. planner_url and planner_cmd both set).
#include "server/config_namespaces.h"

#include <array>
#include <charconv>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "core/utf8.h"
#include "neighbours/neighbour_index.h"

namespace plancache::internal {
namespace {

constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxSeconds = kMaxI64 / 1000;

// "'text'", "12", "true", "a float", ... for error messages.
std::string describe(const toml::node& node) {
  if (const auto* s = node.as_string()) return "'" + printable_ascii(s->get()) + "'";
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (node.is_floating_point()) return "a float";
  if (node.is_array()) return "an array";
  if (node.is_table()) return "a table";
  return "a date or time";
}

Status expected(std::string_view what, const toml::node& node) {
  return Status::invalid_argument("expected " + std::string(what) + ", got " + describe(node));
}

Result<int64_t> integer(const toml::node& node, int64_t max) {
  const auto* i = node.as_integer();
  if (i == nullptr || i->get() < 0 || i->get() > max) {
    return expected("an integer in [0, " + std::to_string(max) + "]", node);
  }
  return i->get();
}

Result<bool> boolean(const toml::node& node) {
  const auto* b = node.as_boolean();
  if (b == nullptr) return expected("true or false", node);
  return b->get();
}

Result<std::string> string(const toml::node& node) {
  const auto* s = node.as_string();
  if (s == nullptr) return expected("a string", node);
  return s->get();
}

// What one [namespaces.<name>] table sets: the library's lane policy, and
// the server's planner for the lane.
struct LaneTable {
  NamespacePolicy& policy;
  server::LanePlanner& planner;
};

Status set_max_entries(LaneTable& t, const toml::node& n) {
  auto v = integer(n, kMaxI64);
  if (!v.is_ok()) return v.status();
  t.policy.memory.max_entries = static_cast<uint64_t>(*v);
  return Status::ok();
}

Status set_max_bytes(LaneTable& t, const toml::node& n) {
  auto v = integer(n, kMaxI64);
  if (!v.is_ok()) return v.status();
  t.policy.memory.max_bytes = static_cast<uint64_t>(*v);
  return Status::ok();
}

Status set_default_ttl_s(LaneTable& t, const toml::node& n) {
  auto v = integer(n, kMaxSeconds);
  if (!v.is_ok()) return v.status();
  t.policy.default_ttl_ms = *v * 1000;
  return Status::ok();
}

Status set_compress(LaneTable& t, const toml::node& n) {
  auto v = boolean(n);
  if (!v.is_ok()) return v.status();
  t.policy.disk.compress = *v;
  return Status::ok();
}

Status set_tiers(LaneTable& t, const toml::node& n) {
  const auto* array = n.as_array();
  if (array == nullptr) return expected(R"(an array of "l1", "l2", "shared")", n);
  std::vector<TierKind> tiers;
  for (const toml::node& item : *array) {
    const auto* s = item.as_string();
    Result<TierKind> kind = s == nullptr ? Result<TierKind>(Status::invalid_argument("not a string"))
                                         : parse_tier_kind(s->get());
    if (!kind.is_ok()) return expected(R"("l1", "l2" or "shared" in the array)", item);
    tiers.push_back(*kind);
  }
  if (tiers.empty()) return Status::invalid_argument("must name at least one tier");
  t.policy.tiers = std::move(tiers);
  return Status::ok();
}

Status set_min_compute_ms(LaneTable& t, const toml::node& n) {
  auto v = integer(n, kMaxI64);
  if (!v.is_ok()) return v.status();
  t.policy.min_compute_ms = *v;
  return Status::ok();
}

Status set_eviction(LaneTable& t, const toml::node& n) {
  auto text = string(n);
  if (!text.is_ok()) return text.status();
  auto policy = parse_eviction_policy(*text);
  if (!policy.is_ok()) return expected(R"("tinylfu", "lru" or "cost")", n);
  t.policy.memory.eviction = *policy;
  return Status::ok();
}

Status set_persistent(LaneTable& t, const toml::node& n) {
  auto v = boolean(n);
  if (!v.is_ok()) return v.status();
  t.policy.disk.persistent = *v;
  return Status::ok();
}

Status set_stale_while_revalidate_s(LaneTable& t, const toml::node& n) {
  auto v = integer(n, kMaxSeconds);
  if (!v.is_ok()) return v.status();
  t.policy.read_through.stale_while_revalidate_s = *v;
  return Status::ok();
}

Status set_stale_if_error_s(LaneTable& t, const toml::node& n) {
  auto v = integer(n, kMaxSeconds);
  if (!v.is_ok()) return v.status();
  t.policy.read_through.stale_if_error_s = *v;
  return Status::ok();
}

Status set_shared_ttl_s(LaneTable& t, const toml::node& n) {
  auto v = integer(n, kMaxSeconds);
  if (!v.is_ok()) return v.status();
  t.policy.shared.ttl_ms = *v * 1000;
  return Status::ok();
}

Status set_planner_url(LaneTable& t, const toml::node& n) {
  auto v = string(n);
  if (!v.is_ok()) return v.status();
  t.planner.url = std::move(v).value();
  return Status::ok();
}

Status set_planner_cmd(LaneTable& t, const toml::node& n) {
  auto v = string(n);
  if (!v.is_ok()) return v.status();
  t.planner.cmd = std::move(v).value();
  return Status::ok();
}

// An array of object member names, none empty (`what` names them).
Result<std::vector<std::string>> member_names(const toml::node& n, const char* what) {
  const auto* array = n.as_array();
  if (array == nullptr) return expected(std::string("an array of ") + what, n);
  std::vector<std::string> fields;
  for (const toml::node& item : *array) {
    const auto* s = item.as_string();
    if (s == nullptr) return expected("a member name (a string) in the array", item);
    if (s->get().empty()) return Status::invalid_argument("empty member name in the array");
    fields.push_back(s->get());
  }
  return fields;
}

// key_ignored_fields = ["request_id", ...]: member names, none empty.
Status set_key_ignored_fields(LaneTable& t, const toml::node& n) {
  auto fields = member_names(n, "member names");
  if (!fields.is_ok()) return fields.status();
  t.policy.keys.ignored_fields = std::move(fields).value();
  return Status::ok();
}

// key_set_arrays = { "plays" = "name", "hosts" = "" }: array member name →
// sort member ("" = by the element's canonical text).
Status set_key_set_arrays(LaneTable& t, const toml::node& n) {
  const auto* table = n.as_table();
  if (table == nullptr) {
    return expected(R"(a table of array member = sort member (e.g. { plays = "name" }))", n);
  }
  std::map<std::string, std::string, std::less<>> set_arrays;
  for (const auto& [raw_name, value] : *table) {
    const std::string name(raw_name.str());
    if (name.empty()) return Status::invalid_argument("empty array member name");
    const auto* member = value.as_string();
    if (member == nullptr) {
      return Status::invalid_argument(
          "array member '" + printable_ascii(name) +
          R"(': expected a string (the sort member, "" = the whole element), got )" +
          describe(value));
    }
    set_arrays[name] = member->get();
  }
  t.policy.keys.set_arrays = std::move(set_arrays);
  return Status::ok();
}

// The shortest text that reads back as `x` ("0.9", "1").
std::string json_number(double x) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return ec == std::errc() ? std::string(buf, end) : std::string("a number");
}

// A number (integer or float) in [min, max].
Result<double> number(const toml::node& node, double min, double max) {
  std::optional<double> v;
  if (const auto* f = node.as_floating_point()) v = f->get();
  if (const auto* i = node.as_integer()) v = static_cast<double>(i->get());
  if (!v || !(*v >= min && *v <= max)) {
    return Status::invalid_argument("expected a number in [" + json_number(min) + ", " +
                                    json_number(max) + "], got " +
                                    (v ? json_number(*v) : describe(node)));
  }
  return *v;
}

Status set_incremental(LaneTable& t, const toml::node& n) {
  auto v = boolean(n);
  if (!v.is_ok()) return v.status();
  t.policy.near_miss.incremental = *v;
  return Status::ok();
}

Status set_max_change_impact(LaneTable& t, const toml::node& n) {
  auto v = number(n, 0.0, 1.0);
  if (!v.is_ok()) return v.status();
  t.policy.near_miss.max_change_impact = *v;
  return Status::ok();
}

// The lane's floor may only be at or above the server's (kSimilarScoreFloor).
Status set_similar_goal_min_score(LaneTable& t, const toml::node& n) {
  auto v = number(n, kSimilarScoreFloor, 1.0);
  if (!v.is_ok()) return v.status();
  t.policy.near_miss.similar_goal_min_score = *v;
  return Status::ok();
}

Status set_similar_hard_fields(LaneTable& t, const toml::node& n) {
  auto fields = member_names(n, "context member names");
  if (!fields.is_ok()) return fields.status();
  t.policy.near_miss.similar_hard_fields = std::move(fields).value();
  return Status::ok();
}

Status set_similar_shadow(LaneTable& t, const toml::node& n) {
  auto v = boolean(n);
  if (!v.is_ok()) return v.status();
  t.policy.near_miss.similar_shadow = *v;
  return Status::ok();
}

Status set_predict(LaneTable& t, const toml::node& n) {
  auto v = boolean(n);
  if (!v.is_ok()) return v.status();
  t.policy.near_miss.predict = *v;
  return Status::ok();
}

Status set_predict_min_confidence(LaneTable& t, const toml::node& n) {
  auto v = number(n, 0.0, 1.0);
  if (!v.is_ok()) return v.status();
  t.policy.near_miss.predict_min_confidence = *v;
  return Status::ok();
}

Status set_predict_max_runs(LaneTable& t, const toml::node& n) {
  const auto* i = n.as_integer();
  if (i == nullptr || i->get() < 1 || i->get() > 1024) return expected("an integer in [1, 1024]", n);
  t.policy.near_miss.predict_max_runs = static_cast<uint32_t>(i->get());
  return Status::ok();
}

Status set_planner_incremental(LaneTable& t, const toml::node& n) {
  auto v = boolean(n);
  if (!v.is_ok()) return v.status();
  t.planner.incremental = *v;
  return Status::ok();
}

struct NamespaceKey {
  std::string_view name;
  Status (*apply)(LaneTable&, const toml::node&);
};

constexpr std::array<NamespaceKey, 24> kKeys = {{
    {"max_entries", &set_max_entries},
    {"max_bytes", &set_max_bytes},
    {"default_ttl_s", &set_default_ttl_s},
    {"compress", &set_compress},
    {"tiers", &set_tiers},
    {"min_compute_ms", &set_min_compute_ms},
    {"eviction", &set_eviction},
    {"persistent", &set_persistent},
    {"stale_while_revalidate_s", &set_stale_while_revalidate_s},
    {"stale_if_error_s", &set_stale_if_error_s},
    {"shared_ttl_s", &set_shared_ttl_s},
    {"planner_url", &set_planner_url},
    {"planner_cmd", &set_planner_cmd},
    {"key_ignored_fields", &set_key_ignored_fields},
    {"key_set_arrays", &set_key_set_arrays},
    {"incremental", &set_incremental},
    {"max_change_impact", &set_max_change_impact},
    {"similar_goal_min_score", &set_similar_goal_min_score},
    {"similar_hard_fields", &set_similar_hard_fields},
    {"similar_shadow", &set_similar_shadow},
    {"predict", &set_predict},
    {"predict_min_confidence", &set_predict_min_confidence},
    {"predict_max_runs", &set_predict_max_runs},
    {"planner_incremental", &set_planner_incremental},
}};

std::string known_keys() {
  std::string out;
  for (const NamespaceKey& k : kKeys) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

// "l1-max" → "l1_max": keys may be written in kebab-case, as the top-level ones.
std::string snake_case(std::string_view key) {
  std::string out(key);
  for (char& ch : out) ch = ch == '-' ? '_' : ch;
  return out;
}

// Applies one [namespaces.<name>] table.
Status apply_table(const std::string& name, const toml::node& node, const std::string& where,
                   NamespaceTables* out) {
  const auto* table = node.as_table();
  if (table == nullptr) return Status::invalid_argument(where + ": expected a table");
  if (Status s = validate_namespace_name(name); !s.is_ok()) {
    return Status::invalid_argument(where + ": bad namespace name: " + s.message());
  }
  // The preset of that name, or the built-in default for a new name.
  NamespacePolicy policy = NamespacePolicies().get(name);
  server::LanePlanner planner;
  LaneTable lane{policy, planner};
  for (const auto& [raw_key, value] : *table) {
    const std::string key = snake_case(raw_key.str());
    const NamespaceKey* known = nullptr;
    for (const NamespaceKey& k : kKeys) known = k.name == key ? &k : known;
    const std::string source = where + " key '" + printable_ascii(raw_key.str()) + "'";
    if (known == nullptr) {
      return Status::invalid_argument(source + ": unknown key (expected " + known_keys() + ")");
    }
    if (Status s = known->apply(lane, value); !s.is_ok()) {
      return Status::invalid_argument(source + ": " + s.message());
    }
    if (name == kDefaultNamespace) out->default_keys.insert(key);
  }
  if (Status s = out->policies.set(name, std::move(policy)); !s.is_ok()) {
    return Status::invalid_argument(where + ": " + s.message());
  }
  if (!planner.url.empty() && !planner.cmd.empty()) {
    return Status::invalid_argument(where + ": namespace '" + name +
                                    "': give planner_url or planner_cmd, not both");
  }
  if (planner.url.empty() && planner.cmd.empty() && planner.incremental) {
    return Status::invalid_argument(where + ": namespace '" + name +
                                    "': planner_incremental needs planner_url or planner_cmd "
                                    "(the server-wide planner's is --planner-incremental)");
  }
  if (planner.url.empty() && planner.cmd.empty()) {
    out->planners.erase(name);
  } else {
    out->planners[name] = std::move(planner);
  }
  return Status::ok();
}

}  // namespace

Status apply_namespace_tables(const toml::node& node, const std::string& path,
                              NamespaceTables* out) {
  const auto* tables = node.as_table();
  if (tables == nullptr) {
    return Status::invalid_argument("config file " + path +
                                    ": 'namespaces' must be a table of [namespaces.<name>] tables");
  }
  for (const auto& [raw_name, table] : *tables) {
    const std::string name(raw_name.str());
    const std::string where =
        "config file " + path + ": [namespaces." + printable_ascii(name) + "]";
    PLANCACHE_RETURN_IF_ERROR(apply_table(name, table, where, out));
  }
  return Status::ok();
}

namespace {

// A server-wide setting that is an input to the default lane's policy.
struct DefaultLink {
  std::string_view setting;  // ServeSetting name
  std::string_view key;      // [namespaces.default] key
  void (*to_policy)(const server::ServerConfig&, NamespacePolicy&);
};

constexpr std::array<DefaultLink, 4> kDefaultLinks = {{
    {"l1_max_entries", "max_entries",
     [](const server::ServerConfig& c, NamespacePolicy& p) {
       p.memory.max_entries = c.l1_max_entries;
     }},
    {"l1_max_bytes", "max_bytes",
     [](const server::ServerConfig& c, NamespacePolicy& p) {
       p.memory.max_bytes = c.l1_max_bytes;
     }},
    {"default_ttl_s", "default_ttl_s",
     [](const server::ServerConfig& c, NamespacePolicy& p) {
       p.default_ttl_ms = c.default_ttl_s * 1000;
     }},
    {"min_compute_ms", "min_compute_ms",
     [](const server::ServerConfig& c, NamespacePolicy& p) {
       p.min_compute_ms = c.min_compute_ms;
     }},
}};

// The one writer of the four fields after resolution: a one-way mirror of
// the default lane, so that what was resolved reads back from the config.
// Nothing in the server reads them afterwards; readers use the policy.
void mirror_default_lane(const NamespacePolicy& lane, server::ServerConfig& config) {
  config.l1_max_entries = lane.memory.max_entries;
  config.l1_max_bytes = lane.memory.max_bytes;
  config.default_ttl_s = lane.default_ttl_ms / 1000;
  config.min_compute_ms = lane.min_compute_ms;
}

}  // namespace

Status finish_namespaces(NamespaceTables tables,
                         const std::function<bool(std::string_view)>& given_above_file,
                         const std::function<bool(std::string_view)>& given_in_file,
                         server::ServerConfig& config) {
  NamespacePolicy policy = tables.policies.get(kDefaultNamespace);
  for (const DefaultLink& link : kDefaultLinks) {
    const bool input_wins =
        given_above_file(link.setting) ||
        (given_in_file(link.setting) && tables.default_keys.count(link.key) == 0);
    if (input_wins) link.to_policy(config, policy);
  }
  PLANCACHE_RETURN_IF_ERROR(tables.policies.set(std::string(kDefaultNamespace), std::move(policy)));
  config.namespaces = std::make_shared<const NamespacePolicies>(std::move(tables.policies));
  config.namespace_planners = std::move(tables.planners);
  mirror_default_lane(config.namespaces->get(kDefaultNamespace), config);
  return Status::ok();
}

Result<std::shared_ptr<const NamespacePolicies>> effective_namespaces(
    const server::ServerConfig& config) {
  if (config.namespaces) return config.namespaces;
  server::ServerConfig copy = config;
  const auto always = [](std::string_view) { return true; };
  PLANCACHE_RETURN_IF_ERROR(finish_namespaces(NamespaceTables{}, always, always, copy));
  return copy.namespaces;
}

}  // namespace plancache::internal
