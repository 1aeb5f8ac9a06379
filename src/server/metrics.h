// Server-side counters (requests per route and status, connections) and the
// two renderings of everything the server counts: the GET /v1/stats JSON
// document and the GET /metrics Prometheus text (plancache_ prefix).
//
// Thread-safety: HttpCounters is lock-free (relaxed atomics: counters only,
// no ordering with other memory); the render functions are pure.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "plancache/cache.h"
#include "plancache/namespace_policy.h"
#include "server/router.h"

namespace plancache::internal {

class HttpCounters {
 public:
  // The statuses counted one by one; any other lands in "other".
  static constexpr std::array<unsigned, 17> kStatuses = {
      200, 201, 204, 400, 401, 403, 404, 405, 408, 409, 413, 431, 500, 501, 502, 503, 0};

  void record(Route route, unsigned status) {
    requests_[static_cast<size_t>(route)][slot(status)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t requests(Route route, size_t status_slot) const {
    return requests_[static_cast<size_t>(route)][status_slot].load(std::memory_order_relaxed);
  }

  // Takes one of `max` connection slots; false (and counts a rejection)
  // when all are taken.
  bool try_open_connection(uint32_t max);
  void close_connection() { open_.fetch_sub(1, std::memory_order_relaxed); }
  // A connection refused without a session (out of file descriptors).
  void count_rejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }
  uint32_t open_connections() const { return open_.load(std::memory_order_relaxed); }
  uint64_t accepted_connections() const { return accepted_.load(std::memory_order_relaxed); }
  uint64_t rejected_connections() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  static size_t slot(unsigned status) {
    for (size_t i = 0; i + 1 < kStatuses.size(); ++i) {
      if (kStatuses[i] == status) return i;
    }
    return kStatuses.size() - 1;
  }

  std::array<std::array<std::atomic<uint64_t>, kStatuses.size()>, kRouteCount> requests_{};
  std::atomic<uint32_t> open_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> rejected_{0};
};

// GET /v1/stats: per tier, per namespace, cache-wide and HTTP figures, plus
// the §1 PlanCache names (l1_size, l1_hit_rate, l2_connected, ...) at the
// top level. With `policies`, every configured namespace is listed (zeros
// until used) with the policy that applies to it (docs/http_api.md). Of the
// unconfigured namespaces, at most `max_unconfigured` are shown one by one
// and the rest summed into "(other)" (namespace_report.h), whose row says
// how many it covers ("count").
nlohmann::json stats_document(CacheStats stats, const HttpCounters& http, double uptime_s,
                              const NamespacePolicies* policies, size_t max_unconfigured);

// GET /metrics: Prometheus text exposition format 0.0.4. Namespaces are
// folded as in stats_document; plancache_namespaces_folded says how many.
std::string prometheus_text(CacheStats stats, const HttpCounters& http, double uptime_s,
                            const NamespacePolicies* policies, size_t max_unconfigured);

}  // namespace plancache::internal
