#include "server/config_settings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>

#include "core/utf8.h"
#include "plancache/key_builder.h"
#include "server/config.h"
#include "server/memory_source.h"

namespace plancache::internal {
namespace {

using server::ServeFlags;
using server::ServerConfig;

constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();

std::string quoted(std::string_view value) {
  std::string out = "'";
  out += printable_ascii(value);
  out += "'";
  return out;
}

Status apply_host(ServerConfig& c, std::string_view v, std::string_view source) {
  if (v.empty()) return Status::invalid_argument(std::string(source) + ": host must not be empty");
  c.host = std::string(v);
  return Status::ok();
}

Status apply_port(ServerConfig& c, std::string_view v, std::string_view source) {
  auto n = parse_int_setting(v, source, 0, 65535);
  if (!n.is_ok()) return n.status();
  c.port = static_cast<uint16_t>(*n);
  return Status::ok();
}

template <std::string ServerConfig::*kField>
Status apply_string(ServerConfig& c, std::string_view v, std::string_view) {
  c.*kField = std::string(v);
  return Status::ok();
}

template <typename T, T ServerConfig::*kField, int64_t kMin, int64_t kMax>
Status apply_int(ServerConfig& c, std::string_view v, std::string_view source) {
  auto n = parse_int_setting(v, source, kMin, kMax);
  if (!n.is_ok()) return n.status();
  c.*kField = static_cast<T>(*n);
  return Status::ok();
}

Status apply_sample(ServerConfig& c, std::string_view v, std::string_view source) {
  double x = 0;
  const char* end = v.data() + v.size();
  auto [ptr, ec] = std::from_chars(v.data(), end, x);
  if (v.empty() || ec != std::errc() || ptr != end || !(x > 0 && x <= 1)) {
    return Status::invalid_argument(std::string(source) + ": expected a share in (0, 1], got " +
                                    quoted(v));
  }
  c.access_log_sample = x;
  return Status::ok();
}

Status apply_log_max_mb(ServerConfig& c, std::string_view v, std::string_view source) {
  auto n = parse_int_setting(v, source, 1, 1'000'000);
  if (!n.is_ok()) return n.status();
  c.access_log_max_bytes = static_cast<uint64_t>(*n) << 20;
  return Status::ok();
}

Status apply_hash(ServerConfig& c, std::string_view v, std::string_view source) {
  if (!parse_hash_algorithm(v).is_ok()) {
    return Status::invalid_argument(std::string(source) + ": unknown hash " + quoted(v) +
                                    " (expected sha256 or xxh3-128)");
  }
  c.hash = std::string(v);
  return Status::ok();
}

Status apply_ignored(ServerConfig& c, std::string_view v, std::string_view source) {
  c.ignored_context_fields.clear();
  size_t start = 0;
  while (start <= v.size() && !v.empty()) {
    size_t comma = v.find(',', start);
    if (comma == std::string_view::npos) comma = v.size();
    std::string_view field = v.substr(start, comma - start);
    if (field.empty()) {
      return Status::invalid_argument(std::string(source) + ": empty field name in " + quoted(v));
    }
    c.ignored_context_fields.emplace_back(field);
    start = comma + 1;
  }
  return Status::ok();
}

template <bool ServerConfig::*Member>
Status apply_bool(ServerConfig& c, std::string_view v, std::string_view source) {
  auto b = parse_bool_setting(v, source);
  if (!b.is_ok()) return b.status();
  c.*Member = *b;
  return Status::ok();
}

Status apply_log_level(ServerConfig& c, std::string_view v, std::string_view source) {
  static constexpr std::array<std::string_view, 7> kLevels = {"trace", "debug",    "info", "warn",
                                                              "error", "critical", "off"};
  if (std::find(kLevels.begin(), kLevels.end(), v) == kLevels.end()) {
    return Status::invalid_argument(std::string(source) + ": unknown log level " + quoted(v) +
                                    " (expected trace, debug, info, warn, error, critical or off)");
  }
  c.log_level = std::string(v);
  return Status::ok();
}

Status apply_disk_recovery(ServerConfig& c, std::string_view v, std::string_view source) {
  if (v != "point-in-time" && v != "strict") {
    return Status::invalid_argument(std::string(source) + ": unknown disk recovery mode " +
                                    quoted(v) + " (expected point-in-time or strict)");
  }
  c.disk_recovery = std::string(v);
  return Status::ok();
}

// A decimal share in [min, max]; min 0 means (0, max]. `range` says which.
Result<double> parse_share(std::string_view v, std::string_view source, double min, double max,
                           std::string_view range) {
  double x = 0;
  const char* end = v.data() + v.size();
  auto [ptr, ec] = std::from_chars(v.data(), end, x);
  const bool above_min = min == 0 ? x > 0 : x >= min;
  if (v.empty() || ec != std::errc() || ptr != end || !above_min || !(x <= max)) {
    return Status::invalid_argument(std::string(source) + ": expected a share in " +
                                    std::string(range) + ", got " + quoted(v));
  }
  return x;
}

Status apply_memory_source(ServerConfig& c, std::string_view v, std::string_view source) {
  auto kind = parse_memory_source_kind(v);
  if (!kind.is_ok()) {
    return Status::invalid_argument(std::string(source) + ": " + kind.status().message());
  }
  c.memory_source = std::string(v);
  return Status::ok();
}

Status apply_watermark(ServerConfig& c, std::string_view v, std::string_view source) {
  auto x = parse_share(v, source, 0.2, 0.99, "[0.2, 0.99]");
  if (!x.is_ok()) return x.status();
  c.memory_high_watermark = *x;
  return Status::ok();
}

Status apply_pressure_fraction(ServerConfig& c, std::string_view v, std::string_view source) {
  auto x = parse_share(v, source, 0, 1, "(0, 1]");
  if (!x.is_ok()) return x.status();
  c.pressure_evict_fraction = *x;
  return Status::ok();
}

constexpr int64_t kMaxU32 = std::numeric_limits<uint32_t>::max();

const auto kSettings = std::to_array<ServeSetting>({
    {"host", &ServeFlags::host, "Address to listen on (non-loopback needs --admin-token)",
     "127.0.0.1", &apply_host},
    {"port", &ServeFlags::port, "TCP port (0 = ephemeral)", "8080", &apply_port},
    {"data_dir", &ServeFlags::data_dir,
     "Disk tier directory, \"\" = no disk tier", "./plancache-data",
     &apply_string<&ServerConfig::data_dir>},
    {"redis_url", &ServeFlags::redis_url,
     "Shared tier: redis://[user:pass@]host:port[/db]; comma-separated seeds = Redis Cluster",
     "", &apply_string<&ServerConfig::redis_url>},
    {"redis_key_prefix", &ServeFlags::redis_key_prefix,
     "Prefix of plancache's Redis keys (instances sharing plans use the same)", "pc",
     &apply_string<&ServerConfig::redis_key_prefix>},
    {"redis_timeout_ms", &ServeFlags::redis_timeout_ms,
     "A Redis call slower than this fails (and counts toward the node's breaker)", "250",
     &apply_int<uint32_t, &ServerConfig::redis_timeout_ms, 1, 60'000>},
    {"access_log", &ServeFlags::access_log,
     "Sampled access log (JSONL) for `plancache simulate` and GET /v1/advice; \"\" = off", "",
     &apply_string<&ServerConfig::access_log>},
    {"access_log_sample", &ServeFlags::access_log_sample,
     "Share of keys the access log follows, (0, 1] (whole sequences of sampled keys)", "0.1",
     &apply_sample},
    {"access_log_max_mb", &ServeFlags::access_log_max_mb,
     "Access log size at which it is rotated to FILE.1", "64", &apply_log_max_mb},
    {"redis_lease_ms", &ServeFlags::redis_lease_ms,
     "Cross-instance single-flight lease, renewed while the planner runs", "3000",
     &apply_int<uint32_t, &ServerConfig::redis_lease_ms, 100, 3'600'000>},
    {"planner_url", &ServeFlags::planner_url,
     "Read-through planner: http://host:port/path taking {goal,context,namespace} as JSON", "",
     &apply_string<&ServerConfig::planner_url>},
    {"planner_cmd", &ServeFlags::planner_cmd,
     "Read-through planner command (sh -c): request JSON on stdin, plan JSON on stdout", "",
     &apply_string<&ServerConfig::planner_cmd>},
    {"planner_incremental", &ServeFlags::planner_incremental,
     "true: the planner understands incremental requests (lanes with incremental = true)",
     "false", &apply_bool<&ServerConfig::planner_incremental>},
    {"admin_token", &ServeFlags::admin_token, "Bearer token for /v1/clear and /v1/evict", "",
     &apply_string<&ServerConfig::admin_token>},
    {"api_token", &ServeFlags::api_token,
     "Bearer token for every endpoint but /healthz and /readyz", "",
     &apply_string<&ServerConfig::api_token>},
    {"l1_max_entries", &ServeFlags::l1_max_entries, "Memory tier entry bound of the default namespace (0 = unbounded)",
     "100000", &apply_int<uint64_t, &ServerConfig::l1_max_entries, 0, kMaxI64>},
    {"l1_max_bytes", &ServeFlags::l1_max_bytes, "Memory tier byte bound of the default namespace (0 = unbounded)",
     "268435456", &apply_int<uint64_t, &ServerConfig::l1_max_bytes, 0, kMaxI64>},
    {"l2_max_bytes", &ServeFlags::l2_max_bytes, "Disk tier byte bound (0 = unbounded)",
     "1073741824", &apply_int<uint64_t, &ServerConfig::l2_max_bytes, 0, kMaxI64>},
    {"sync_writes", &ServeFlags::sync_writes,
     "true: fsync the disk tier's log before acknowledging a write (survives power loss)",
     "false", &apply_bool<&ServerConfig::sync_writes>},
    {"write_behind_queue", &ServeFlags::write_behind_queue,
     "Disk tier write-behind: most puts waiting for a background write (0 = write-through)",
     "0", &apply_int<uint64_t, &ServerConfig::write_behind_queue, 0, 10'000'000>},
    {"disk_recovery", &ServeFlags::disk_recovery,
     "Damaged disk-tier log at start: point-in-time (drop the rest, report it) or strict "
     "(refuse to start)",
     "point-in-time", &apply_disk_recovery},
    {"default_ttl_s", &ServeFlags::default_ttl_s, "TTL of puts that give none, default namespace (0 = forever)",
     "3600", &apply_int<int64_t, &ServerConfig::default_ttl_s, 0, kMaxI64 / 1000>},
    {"io_threads", &ServeFlags::io_threads, "I/O threads (0 = one per core)", "0",
     &apply_int<unsigned, &ServerConfig::io_threads, 0, 1024>},
    {"max_body_bytes", &ServeFlags::max_body_bytes, "Request body limit (larger -> 413)", "8388608",
     &apply_int<uint64_t, &ServerConfig::max_body_bytes, 1, kMaxI64>},
    {"max_plan_bytes", &ServeFlags::max_plan_bytes,
     "Largest plan stored, from a PUT (larger -> 413) or a planner (larger -> 502)", "8388608",
     &apply_int<uint64_t, &ServerConfig::max_plan_bytes, 1, kMaxI64>},
    {"max_header_bytes", &ServeFlags::max_header_bytes,
     "Request head limit (larger -> 431); also bounds chunk lines and trailers (-> 413)",
     "16384", &apply_int<uint32_t, &ServerConfig::max_header_bytes, 256, kMaxU32>},
    {"read_timeout_ms", &ServeFlags::read_timeout_ms,
     "Time to send a whole request once begun / to read the answer", "10000",
     &apply_int<uint32_t, &ServerConfig::read_timeout_ms, 1, kMaxU32>},
    {"idle_timeout_ms", &ServeFlags::idle_timeout_ms, "Time a keep-alive connection may sit idle",
     "60000", &apply_int<uint32_t, &ServerConfig::idle_timeout_ms, 1, kMaxU32>},
    {"max_connections", &ServeFlags::max_connections,
     "Open connections above which new ones get 503 (lowered at start to fit the open-file limit)",
     "1000",
     &apply_int<uint32_t, &ServerConfig::max_connections, 1, kMaxU32>},
    {"hash", &ServeFlags::hash, "Key hash: sha256 or xxh3-128", "sha256", &apply_hash},
    {"ignored_context_fields", &ServeFlags::ignored_context_fields,
     "Comma-separated context members ignored by the key", "", &apply_ignored},
    {"cache_enabled", &ServeFlags::cache_enabled,
     "false: plan lookups miss and plan puts are dropped", "true", &apply_bool<&ServerConfig::cache_enabled>},
    {"min_compute_ms", &ServeFlags::min_compute_ms,
     "Default namespace: plans that took less to compute are not stored", "0",
     &apply_int<int64_t, &ServerConfig::min_compute_ms, 0, kMaxI64>},
    {"log_level", &ServeFlags::log_level, "trace, debug, info, warn, error, critical or off",
     "info", &apply_log_level},
    {"purge_interval_ms", &ServeFlags::purge_interval_ms, "How often expired entries are swept",
     "1000", &apply_int<uint32_t, &ServerConfig::purge_interval_ms, 1, kMaxU32>},
    {"stats_max_namespaces", &ServeFlags::stats_max_namespaces,
     "Unconfigured namespaces /v1/stats and /metrics show one by one (the rest: \"(other)\")",
     "100", &apply_int<uint32_t, &ServerConfig::stats_max_namespaces, 0, 100'000>},
    {"stats_history_interval_s", &ServeFlags::stats_history_interval_s,
     "Seconds between two snapshots of GET /v1/stats/history (the dashboard's charts)", "10",
     &apply_int<uint32_t, &ServerConfig::stats_history_interval_s, 1, 86'400>},
    {"stats_history_size", &ServeFlags::stats_history_size,
     "Snapshots GET /v1/stats/history keeps (the oldest goes first)", "360",
     &apply_int<uint32_t, &ServerConfig::stats_history_size, 1, 100'000>},
    {"memory_source", &ServeFlags::memory_source,
     "Memory-pressure watchdog: auto (the process's cgroup if it has a limit, else RSS vs "
     "MemAvailable), cgroup-v2, cgroup-v1, meminfo or off",
     "auto", &apply_memory_source},
    {"memory_budget", &ServeFlags::memory_budget,
     "Bytes the process may use; caps the memory source's limit (0 = the source's own)", "0",
     &apply_int<uint64_t, &ServerConfig::memory_budget, 0, kMaxI64>},
    {"memory_high_watermark", &ServeFlags::memory_high_watermark,
     "Share of the memory limit at which L1 lanes are evicted from and shrunk, [0.2, 0.99]",
     "0.80", &apply_watermark},
    {"pressure_evict_fraction", &ServeFlags::pressure_evict_fraction,
     "Share of every L1 lane evicted per round above the watermark, (0, 1]", "0.20",
     &apply_pressure_fraction},
    {"memory_check_interval_ms", &ServeFlags::memory_check_interval_ms,
     "How often the memory-pressure watchdog reads memory use", "500",
     &apply_int<uint32_t, &ServerConfig::memory_check_interval_ms, 10, 3'600'000>},
    {"planner_timeout_ms", &ServeFlags::planner_timeout_ms,
     "A planner call longer than this fails with 502 (a command is killed)", "120000",
     &apply_int<uint32_t, &ServerConfig::planner_timeout_ms, 1, kMaxU32>},
    {"planner_max_concurrent", &ServeFlags::planner_max_concurrent,
     "Planner calls running at once", "8",
     &apply_int<uint32_t, &ServerConfig::planner_max_concurrent, 1, 1024>},
    {"refresh_ahead_s", &ServeFlags::refresh_ahead_s,
     "Recompute hot plans this long before their TTL ends (0 = off)", "60",
     &apply_int<int64_t, &ServerConfig::refresh_ahead_s, 0, kMaxI64 / 1000>},
    {"refresh_ahead_min_hits", &ServeFlags::refresh_ahead_min_hits,
     "Hits inside the refresh-ahead window that make a plan hot", "3",
     &apply_int<uint32_t, &ServerConfig::refresh_ahead_min_hits, 1, kMaxU32>},
    {"max_background_refreshes", &ServeFlags::max_background_refreshes,
     "Background refreshes running at once (more are skipped)", "2",
     &apply_int<uint32_t, &ServerConfig::max_background_refreshes, 1, 1024>},
    {"predict_interval_s", &ServeFlags::predict_interval_s,
     "Seconds between two predictor passes over the lanes with predict = true", "30",
     &apply_int<uint32_t, &ServerConfig::predict_interval_s, 1, 86'400>},
    {"sse_heartbeat_ms", &ServeFlags::sse_heartbeat_ms,
     "Heartbeat interval of an SSE answer while a plan is computed, and of a silent event stream",
     "15000", &apply_int<uint32_t, &ServerConfig::sse_heartbeat_ms, 1, kMaxU32>},
    {"events_buffer", &ServeFlags::events_buffer,
     "Events a GET /v1/events subscriber may fall behind before it is dropped", "1024",
     &apply_int<uint32_t, &ServerConfig::events_buffer, 1, 1'048'576>},
    {"stop_grace_ms", &ServeFlags::stop_grace_ms,
     "On SIGTERM, time running planner calls get before they are cancelled (callers get 503)",
     "10000", &apply_int<uint32_t, &ServerConfig::stop_grace_ms, 0, kMaxU32>},
});

}  // namespace

std::span<const ServeSetting> serve_settings() { return kSettings; }

std::string kebab_case(std::string_view snake) {
  std::string out(snake);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::string env_var_name(std::string_view snake) {
  std::string out = "PLANCACHE_";
  for (char ch : snake) out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

Result<bool> parse_bool_setting(std::string_view value, std::string_view source) {
  std::string lower;
  for (char ch : value) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  return Status::invalid_argument(std::string(source) + ": expected true or false, got " +
                                  quoted(value));
}

Result<int64_t> parse_int_setting(std::string_view value, std::string_view source, int64_t min,
                                  int64_t max) {
  int64_t n = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, n);
  if (value.empty() || ec == std::errc::invalid_argument || ptr != end) {
    return Status::invalid_argument(std::string(source) + ": expected an integer, got " +
                                    quoted(value));
  }
  if (ec == std::errc::result_out_of_range || n < min || n > max) {
    return Status::invalid_argument(std::string(source) + ": " + quoted(value) +
                                    " is out of range [" + std::to_string(min) + ", " +
                                    std::to_string(max) + "]");
  }
  return n;
}

}  // namespace plancache::internal
