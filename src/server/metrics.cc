#include "server/metrics.h"

#include <map>

#include "server/namespace_report.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

const TierStats* find_tier(const CacheStats& stats, std::string_view name) {
  for (const TierStats& t : stats.tiers) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

double rate(uint64_t hits, uint64_t misses) {
  const uint64_t total = hits + misses;
  return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
}

json tier_names(const std::vector<TierKind>& tiers) {
  json names = json::array();
  for (TierKind t : tiers) names.push_back(tier_kind_name(t));
  return names;
}

json namespace_json(const NamespaceCounters& c) {
  return {{"entries", c.entries},
          {"bytes", c.bytes},
          {"hits", c.hits},
          {"misses", c.misses},
          {"hit_rate", rate(c.hits, c.misses)},
          {"evictions", c.evictions}};
}

json set_arrays_json(const KeyRules& rules) {
  json out = json::object();
  for (const auto& [name, member] : rules.set_arrays) out[name] = member;
  return out;
}

// The policy that applies to `ns`: its own ("lane" = ns) or, for a
// namespace nobody configured, the default one ("lane" = "default").
json policy_json(const std::string& ns, const NamespacePolicies& policies) {
  const NamespacePolicy& p = policies.get(ns);
  return {{"lane", policies.configured(ns) ? ns : std::string(kDefaultNamespace)},
          {"max_entries", p.memory.max_entries},
          {"max_bytes", p.memory.max_bytes},
          {"default_ttl_s", p.default_ttl_ms / 1000},
          {"min_compute_ms", p.min_compute_ms},
          {"tiers", tier_names(p.tiers)},
          {"eviction", eviction_policy_name(p.memory.eviction)},
          {"compress", p.disk.compress},
          {"persistent", p.disk.persistent},
          {"shared_ttl_s", p.shared.ttl_ms / 1000},
          {"key_ignored_fields", p.keys.ignored_fields},
          {"key_set_arrays", set_arrays_json(p.keys)}};
}

// {"<ns>": {"<tier>": counters, ..., "policy": {...}}}: every namespace a
// tier reports and, with policies, every configured namespace (zero
// counters in each tier it uses until it is used).
json namespaces_json(const CacheStats& stats, const NamespacePolicies* policies) {
  std::map<std::string, json> out;
  for (const TierStats& t : stats.tiers) {
    for (const auto& [ns, c] : t.namespaces) out[ns][t.name] = namespace_json(c);
  }
  if (policies != nullptr) {
    for (const auto& [ns, policy] : policies->all()) {
      json& doc = out[ns];
      for (const TierStats& t : stats.tiers) {
        if (policy.uses(t.kind) && !doc.contains(t.name)) {
          doc[t.name] = namespace_json(NamespaceCounters{});
        }
      }
    }
    for (auto& [ns, doc] : out) doc["policy"] = policy_json(ns, *policies);
  }
  json section = json::object();
  for (auto& [ns, doc] : out) section[ns] = std::move(doc);
  return section;
}

json tier_json(const TierStats& t) {
  json namespaces = json::object();
  for (const auto& [ns, c] : t.namespaces) namespaces[ns] = namespace_json(c);
  return {{"name", t.name},
          {"connected", t.connected},
          {"state", t.degraded.empty() ? "ok" : "degraded"},
          {"degraded_reason", t.degraded},
          {"entries", t.entries},
          {"bytes", t.bytes},
          {"max_entries", t.max_entries},
          {"max_bytes", t.max_bytes},
          {"hits", t.hits},
          {"misses", t.misses},
          {"hit_rate", t.hit_rate()},
          {"puts", t.puts},
          {"evictions", t.evictions},
          {"expirations", t.expirations},
          {"invalidations", t.invalidations},
          {"errors", t.errors},
          {"corrupt_entries", t.corrupt_entries},
          {"recovery_dropped_entries", t.recovery_dropped_entries},
          {"pending_writes", t.pending_writes},
          {"write_behind_full", t.write_behind_full},
          {"namespaces", std::move(namespaces)}};
}

// The shared tier's own figures (TierStats::shared).
json shared_json(const SharedTierCounters& c) {
  return {{"state", c.state},
          {"breaker", c.breaker},
          {"nodes", c.nodes},
          {"nodes_open", c.nodes_open},
          {"listeners", c.listeners},
          {"listeners_up", c.listeners_up},
          {"invalidations_received", c.invalidations_received},
          {"flushes_received", c.flushes_received},
          {"breaker_opens", c.breaker_opens},
          {"reconnects", c.reconnects},
          {"leases_acquired", c.leases_acquired},
          {"lease_waits", c.lease_waits},
          {"lease_found", c.lease_found},
          {"lease_timeouts", c.lease_timeouts},
          {"lease_lost", c.lease_lost},
          {"pending_invalidations", c.pending_invalidations},
          {"replayed_invalidations", c.replayed_invalidations}};
}

json http_json(const HttpCounters& http) {
  json requests = json::object();
  for (size_t r = 0; r < kRouteCount; ++r) {
    json by_status = json::object();
    for (size_t s = 0; s < HttpCounters::kStatuses.size(); ++s) {
      const uint64_t n = http.requests(static_cast<Route>(r), s);
      if (n == 0) continue;
      const unsigned code = HttpCounters::kStatuses[s];
      by_status[code == 0 ? std::string("other") : std::to_string(code)] = n;
    }
    if (!by_status.empty()) requests[std::string(route_name(static_cast<Route>(r)))] = by_status;
  }
  return {{"open_connections", http.open_connections()},
          {"accepted_connections", http.accepted_connections()},
          {"rejected_connections", http.rejected_connections()},
          {"requests", std::move(requests)}};
}

// Appends Prometheus families; each family's HELP / TYPE once, then samples.
class PromWriter {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    out_ += "# HELP plancache_";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE plancache_";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // `labels` is preformatted: tier="l1",namespace="default", each value
  // made by label().
  template <typename T>
  void sample(std::string_view labels, T value) {
    sample_of(name_, labels, value);
  }
  // A sample of a series of the family other than its own name (a summary's
  // _sum and _count).
  template <typename T>
  void sample_suffixed(std::string_view suffix, std::string_view labels, T value) {
    sample_of(name_ + std::string(suffix), labels, value);
  }
  std::string take() { return std::move(out_); }

 private:
  template <typename T>
  void sample_of(std::string_view name, std::string_view labels, T value) {
    out_ += "plancache_";
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    if constexpr (std::is_floating_point_v<T>) {
      out_ += json(value).dump();
    } else {
      out_ += std::to_string(value);
    }
    out_ += '\n';
  }

  std::string out_;
  std::string name_;
};

// name="value", the value escaped as the exposition format requires (\\,
// \" and \n). Namespace names cannot hold those characters today
// (validate_namespace_name); the escaping keeps the output valid regardless.
std::string label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (char ch : value) {
    if (ch == '\\' || ch == '"') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

std::string tier_label(const TierStats& t) { return label("tier", t.name); }

void write_tiers(PromWriter& w, const CacheStats& stats) {
  struct Field {
    const char* name;
    const char* type;
    const char* help;
    uint64_t TierStats::*member;
  };
  static constexpr Field kFields[] = {
      {"tier_entries", "gauge", "Entries held by the tier.", &TierStats::entries},
      {"tier_bytes", "gauge", "Bytes charged to the tier.", &TierStats::bytes},
      {"tier_max_entries", "gauge", "Entry bound of the tier (0 = none).", &TierStats::max_entries},
      {"tier_max_bytes", "gauge", "Byte bound of the tier (0 = none).", &TierStats::max_bytes},
      {"tier_hits_total", "counter", "Lookups the tier answered.", &TierStats::hits},
      {"tier_misses_total", "counter", "Lookups the tier could not answer.", &TierStats::misses},
      {"tier_puts_total", "counter", "Entries written to the tier.", &TierStats::puts},
      {"tier_evictions_total", "counter", "Entries evicted for size.", &TierStats::evictions},
      {"tier_expirations_total", "counter", "Entries removed when their TTL ran out.",
       &TierStats::expirations},
      {"tier_invalidations_total", "counter", "Entries removed by invalidate, clear or evict.",
       &TierStats::invalidations},
      {"tier_errors_total", "counter", "Failed tier operations.", &TierStats::errors},
      {"tier_corrupt_entries_total", "counter",
       "Entries that failed their checksum on read (deleted).", &TierStats::corrupt_entries},
      {"tier_recovery_dropped_entries", "gauge",
       "Entries dropped by recovery from a damaged write-ahead log at start (at least).",
       &TierStats::recovery_dropped_entries},
      {"tier_pending_writes", "gauge", "Write-behind puts not yet written to the tier.",
       &TierStats::pending_writes},
      {"tier_write_behind_full_total", "counter",
       "Write-behind puts written synchronously because the queue was full.",
       &TierStats::write_behind_full},
  };
  for (const Field& f : kFields) {
    w.family(f.name, f.type, f.help);
    for (const TierStats& t : stats.tiers) w.sample(tier_label(t), t.*(f.member));
  }
  w.family("tier_connected", "gauge", "1 when the tier is reachable.");
  for (const TierStats& t : stats.tiers) w.sample(tier_label(t), t.connected ? 1 : 0);
  w.family("tier_degraded", "gauge", "1 while the tier refuses writes (see /v1/stats).");
  for (const TierStats& t : stats.tiers) w.sample(tier_label(t), t.degraded.empty() ? 0 : 1);
  w.family("tier_hit_rate", "gauge", "hits / (hits + misses) of the tier.");
  for (const TierStats& t : stats.tiers) w.sample(tier_label(t), t.hit_rate());
}

// plancache_shared_*: the shared tier's own figures, when there is one.
void write_shared(PromWriter& w, const CacheStats& stats) {
  const TierStats* shared = nullptr;
  for (const TierStats& t : stats.tiers) {
    if (t.kind == TierKind::kShared) shared = &t;
  }
  if (shared == nullptr) return;
  const SharedTierCounters& c = shared->shared;
  w.family("shared_connected", "gauge",
           "1 when every Redis node is reachable and every invalidation listener subscribed.");
  w.sample("", shared->connected ? 1 : 0);
  w.family("shared_breaker_open", "gauge", "1 while some Redis node's breaker is open.");
  w.sample("", c.nodes_open == 0 ? 0 : 1);
  struct Field {
    const char* name;
    const char* type;
    const char* help;
    uint64_t SharedTierCounters::*member;
  };
  static constexpr Field kFields[] = {
      {"shared_nodes", "gauge", "Redis masters known.", &SharedTierCounters::nodes},
      {"shared_nodes_open", "gauge", "Redis masters whose breaker is open.",
       &SharedTierCounters::nodes_open},
      {"shared_listeners_up", "gauge", "Invalidation listeners subscribed.",
       &SharedTierCounters::listeners_up},
      {"shared_invalidations_received_total", "counter",
       "Keys other writers invalidated, as this instance heard them.",
       &SharedTierCounters::invalidations_received},
      {"shared_flushes_total", "counter",
       "Drops of every local copy of shared entries (flush, coherence lost or regained).",
       &SharedTierCounters::flushes_received},
      {"shared_breaker_opens_total", "counter", "Times a Redis node's breaker opened.",
       &SharedTierCounters::breaker_opens},
      {"shared_reconnects_total", "counter", "Redis connections and listeners re-opened.",
       &SharedTierCounters::reconnects},
      {"shared_leases_acquired_total", "counter", "Computes run here under a shared lease.",
       &SharedTierCounters::leases_acquired},
      {"shared_lease_waits_total", "counter", "Misses that waited for another instance.",
       &SharedTierCounters::lease_waits},
      {"shared_lease_found_total", "counter", "Waits that got the other instance's value.",
       &SharedTierCounters::lease_found},
      {"shared_lease_timeouts_total", "counter", "Waits that gave up (computed here).",
       &SharedTierCounters::lease_timeouts},
      {"shared_lease_lost_total", "counter",
       "Commits refused: lease lost or key invalidated while computing.",
       &SharedTierCounters::lease_lost},
      {"shared_pending_invalidations", "gauge",
       "Deletions and invalidations waiting for Redis to be back.",
       &SharedTierCounters::pending_invalidations},
      {"shared_replayed_invalidations_total", "counter",
       "Deletions and invalidations replayed once Redis was back.",
       &SharedTierCounters::replayed_invalidations},
  };
  for (const Field& f : kFields) {
    w.family(f.name, f.type, f.help);
    w.sample("", c.*(f.member));
  }
}

void write_namespaces(PromWriter& w, const CacheStats& stats) {
  struct Field {
    const char* name;
    const char* type;
    const char* help;
    uint64_t NamespaceCounters::*member;
  };
  static constexpr Field kFields[] = {
      {"namespace_entries", "gauge", "Entries of the namespace in the tier.",
       &NamespaceCounters::entries},
      {"namespace_bytes", "gauge", "Bytes of the namespace in the tier.",
       &NamespaceCounters::bytes},
      {"namespace_hits_total", "counter", "Hits of the namespace in the tier.",
       &NamespaceCounters::hits},
      {"namespace_misses_total", "counter", "Misses of the namespace in the tier.",
       &NamespaceCounters::misses},
      {"namespace_evictions_total", "counter", "Entries of the namespace evicted for size.",
       &NamespaceCounters::evictions},
  };
  for (const Field& f : kFields) {
    w.family(f.name, f.type, f.help);
    for (const TierStats& t : stats.tiers) {
      for (const auto& [ns, c] : t.namespaces) {
        w.sample(tier_label(t) + "," + label("namespace", ns), c.*(f.member));
      }
    }
  }
}

void write_folded(PromWriter& w, uint64_t folded) {
  w.family("namespaces_folded", "gauge",
           "Unconfigured namespaces summed into namespace=\"(other)\" "
           "(beyond --stats-max-namespaces).");
  w.sample("", folded);
}

void write_cache(PromWriter& w, const CacheStats& s) {
  const std::pair<const char*, uint64_t> counters[] = {
      {"cache_gets_total", s.gets},          {"cache_hits_total", s.hits},
      {"cache_misses_total", s.misses},      {"cache_promotions_total", s.promotions},
      {"cache_computes_total", s.computes},  {"cache_compute_errors_total", s.compute_errors},
      {"cache_coalesced_total", s.coalesced}};
  for (const auto& [name, value] : counters) {
    w.family(name, "counter", "Cache-wide count (see docs/http_api.md).");
    w.sample("", value);
  }
  w.family("cache_planner_seconds_saved_total", "counter",
           "Planner time the hits saved (the sum of their compute_ms).");
  w.sample("", static_cast<double>(s.compute_ms_saved) / 1000.0);
  w.family("cache_inflight_computes", "gauge", "Computes running now.");
  w.sample("", s.inflight);
  w.family("cache_hit_rate", "gauge", "hits / gets over all tiers.");
  w.sample("", s.hit_rate());
  w.family("cache_get_latency_seconds", "summary",
           "Latency of Cache::get (quantiles: bucket bounds, at most the max).");
  w.sample("quantile=\"0.5\"", s.get_latency.p50_us / 1e6);
  w.sample("quantile=\"0.99\"", s.get_latency.p99_us / 1e6);
  w.sample_suffixed("_sum", "", s.get_latency.sum_us / 1e6);
  w.sample_suffixed("_count", "", s.get_latency.count);
  w.family("cache_get_latency_max_seconds", "gauge", "Longest Cache::get since start.");
  w.sample("", s.get_latency.max_us / 1e6);
}

void write_http(PromWriter& w, const HttpCounters& http, double uptime_s) {
  w.family("http_requests_total", "counter", "HTTP requests answered, by route and status.");
  for (size_t r = 0; r < kRouteCount; ++r) {
    for (size_t s = 0; s < HttpCounters::kStatuses.size(); ++s) {
      const uint64_t n = http.requests(static_cast<Route>(r), s);
      if (n == 0) continue;
      const unsigned code = HttpCounters::kStatuses[s];
      w.sample("route=\"" + std::string(route_name(static_cast<Route>(r))) + "\",code=\"" +
                   (code == 0 ? std::string("other") : std::to_string(code)) + "\"",
               n);
    }
  }
  w.family("http_open_connections", "gauge", "Client connections open now.");
  w.sample("", http.open_connections());
  w.family("http_connections_accepted_total", "counter", "Client connections accepted.");
  w.sample("", http.accepted_connections());
  w.family("http_connections_rejected_total", "counter",
           "Connections refused with 503 (max_connections reached).");
  w.sample("", http.rejected_connections());
  w.family("uptime_seconds", "gauge", "Seconds since the server started.");
  w.sample("", uptime_s);
}

}  // namespace

bool HttpCounters::try_open_connection(uint32_t max) {
  uint32_t open = open_.load(std::memory_order_relaxed);
  do {
    if (open >= max) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (!open_.compare_exchange_weak(open, open + 1, std::memory_order_relaxed));
  accepted_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

json stats_document(CacheStats stats, const HttpCounters& http, double uptime_s,
                    const NamespacePolicies* policies, size_t max_unconfigured) {
  const uint64_t folded = fold_namespaces(&stats, policies, max_unconfigured);
  const TierStats* l1 = find_tier(stats, "l1");
  const TierStats* l2 = find_tier(stats, "l2");
  const TierStats* shared = find_tier(stats, "shared");
  json doc;
  // SPEC §1 PlanCache names.
  doc["l1_size"] = l1 ? l1->entries : 0;
  // The PlanCache setting of that name (PLAN_CACHE_MAXSIZE): the default
  // lane's bound. The whole L1's (the sum over lanes) is tiers[l1].
  doc["l1_max_size"] = l1 == nullptr   ? 0
                       : policies != nullptr ? policies->get(kDefaultNamespace).memory.max_entries
                                             : l1->max_entries;
  doc["l1_hits"] = l1 ? l1->hits : 0;
  doc["l1_misses"] = l1 ? l1->misses : 0;
  doc["l1_hit_rate"] = l1 ? l1->hit_rate() : 0.0;
  doc["l2_connected"] = l2 != nullptr && l2->connected;
  doc["l2_hits"] = l2 ? l2->hits : 0;
  doc["l2_hit_rate"] = l2 ? l2->hit_rate() : 0.0;
  doc["l2_size"] = l2 ? l2->entries : 0;
  doc["l2_corrupt_entries"] = l2 ? l2->corrupt_entries : 0;
  doc["l2_pending_writes"] = l2 ? l2->pending_writes : 0;
  // The old PlanCache design's l2 was Redis: its `l2_connected` meaning is
  // `shared_connected` here (docs/http_api.md); l2 is the disk tier.
  doc["shared_connected"] = shared != nullptr && shared->connected;

  json tiers = json::array();
  for (const TierStats& t : stats.tiers) {
    tiers.push_back(tier_json(t));
    if (t.kind == TierKind::kShared) tiers.back()["shared"] = shared_json(t.shared);
  }
  doc["tiers"] = std::move(tiers);
  doc["namespaces"] = namespaces_json(stats, policies);
  if (folded > 0) doc["namespaces"][std::string(kOtherNamespaces)]["count"] = folded;
  doc["cache"] = {{"gets", stats.gets},
                  {"hits", stats.hits},
                  {"misses", stats.misses},
                  {"hit_rate", stats.hit_rate()},
                  {"promotions", stats.promotions},
                  {"computes", stats.computes},
                  {"compute_errors", stats.compute_errors},
                  {"coalesced", stats.coalesced},
                  {"inflight", stats.inflight},
                  {"waiting", stats.waiting},
                  {"planner_seconds_saved", static_cast<double>(stats.compute_ms_saved) / 1000.0},
                  {"get_latency_us",
                   {{"count", stats.get_latency.count},
                    {"sum", stats.get_latency.sum_us},
                    {"p50", stats.get_latency.p50_us},
                    {"p99", stats.get_latency.p99_us},
                    {"max", stats.get_latency.max_us}}}};
  doc["http"] = http_json(http);
  doc["uptime_s"] = uptime_s;
  return doc;
}

std::string prometheus_text(CacheStats stats, const HttpCounters& http, double uptime_s,
                            const NamespacePolicies* policies, size_t max_unconfigured) {
  const uint64_t folded = fold_namespaces(&stats, policies, max_unconfigured);
  PromWriter w;
  write_tiers(w, stats);
  write_shared(w, stats);
  write_namespaces(w, stats);
  write_folded(w, folded);
  write_cache(w, stats);
  write_http(w, http, uptime_s);
  return w.take();
}

}  // namespace plancache::internal
