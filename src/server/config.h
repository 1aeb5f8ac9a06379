// Configuration of `plancache serve` (SPEC §3 "Server").
//
// Every setting comes, in order of precedence, from:
//   1. a command-line flag (ServeFlags, filled by CLI11 through
//      register_serve_flags);
//   2. an environment variable PLANCACHE_<UPPER_SNAKE> (PLANCACHE_PORT, ...);
//   3. the seed designs' variables of SPEC §1: PLAN_CACHE_TTL (seconds),
//      PLAN_CACHE_MAXSIZE (L1 entries), PLAN_CACHE_MIN_GEN_TIME (seconds,
//      decimals allowed), PLAN_CACHE_REDIS_ENABLED + REDIS_URL,
//      PLAN_CACHE_ENABLED; and the playbook planner's RUSTLE_CACHE_ENABLED,
//      RUSTLE_CACHE_DIR (data_dir), RUSTLE_REDIS_URL, RUSTLE_CACHE_SIZE_MB
//      (l1_max_bytes in MiB). Where a PLAN_CACHE_* and a RUSTLE_* variable
//      give one setting different values, resolution fails naming both;
//   4. the TOML file named by --config / PLANCACHE_CONFIG: flat keys named
//      after the flags, snake_case or kebab-case ("l1_max_entries"), and
//      [namespaces.<name>] tables, one policy per namespace ("lane"; see
//      server/config_namespaces.h);
//   5. the defaults below.
// The server-wide l1_max_entries, l1_max_bytes, default_ttl_s and
// min_compute_ms are inputs to the `default` namespace's policy: a flag or
// variable beats [namespaces.default], which beats the file's top-level key.
// After resolution that policy (namespaces->get("default")) is the one truth
// every reader uses; the four fields are its one-way mirror
// (config_namespaces.h, finish_namespaces).
// resolve_server_config() applies that order and validates every value once;
// a bad value is invalid_argument naming its source (flag, variable or TOML
// key) and the value. Cross-field start-up checks (non-loopback host without
// an admin token, features of later issues) are made by Server::start.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/clock.h"
#include "plancache/namespace_policy.h"
#include "plancache/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace spdlog {
class logger;
}  // namespace spdlog

namespace plancache::server {

// A lane's own planner: one of the two is set.
struct LanePlanner {
  std::string url;  // like --planner-url
  std::string cmd;  // like --planner-cmd
  // like --planner-incremental: the planner understands incremental
  // requests. Default: false.
  bool incremental = false;
};

struct ServerConfig {
  // Address to listen on. A non-loopback address needs admin_token.
  // Default: 127.0.0.1.
  std::string host = "127.0.0.1";
  // TCP port; 0 = an ephemeral port (see Server::port()). Default: 8080.
  uint16_t port = 8080;
  // Disk tier directory; "" = no disk tier. Default: ./plancache-data.
  std::string data_dir = "./plancache-data";
  // Shared Redis tier: redis://[user:pass@]host:port[/db], several
  // comma-separated seeds = a Redis Cluster. Default: none.
  std::string redis_url;
  // Prefix of every Redis key plancache writes (instances that share
  // plans share it). Default: "pc".
  std::string redis_key_prefix = "pc";
  // A Redis command (or connect) slower than this fails and counts against
  // the node's breaker. Default: 250 ms.
  uint32_t redis_timeout_ms = 250;
  // Cross-instance single-flight: a lease lives this long unless its
  // holder renews it (a dead holder frees the key after it). Default: 3 s.
  uint32_t redis_lease_ms = 3000;
  // Sampled access log for `plancache simulate` and GET /v1/advice: JSONL
  // lines of lookups and puts, for the keys whose hash falls in the sample
  // (key sampling keeps each sampled key's whole sequence). "" = off.
  // Default: off.
  std::string access_log;
  // Share of keys logged, (0, 1]. Default: 0.1.
  double access_log_sample = 0.1;
  // The log is rotated (FILE -> FILE.1, the older FILE.1 dropped) when it
  // grows past this. Default: 64 MiB.
  uint64_t access_log_max_bytes = 64ull << 20;
  // Read-through planner (POST /v1/plans on a miss): an http:// URL that
  // takes {"goal","context","namespace"} and answers the plan JSON, or a
  // command (/bin/sh -c) reading that JSON on stdin and writing the plan on
  // stdout. At most one of the two. Default: none (misses answer 503).
  std::string planner_url;
  std::string planner_cmd;
  // The server-wide planner understands incremental requests
  // (docs/http_api.md, "The incremental planner protocol"); lanes with
  // `incremental = true` then send it their near misses. Default: false.
  bool planner_incremental = false;
  // A planner call longer than this fails (502; a command is killed).
  // Default: 120 s.
  uint32_t planner_timeout_ms = 120'000;
  // Planner calls running at once (more wait their turn). Default: 8.
  uint32_t planner_max_concurrent = 8;
  // Refresh-ahead: a plan hit refresh_ahead_min_hits times in the last
  // refresh_ahead_s of its TTL (at most half of it) is recomputed in the
  // background before it expires; 0 = off. Defaults: 60 s, 3 hits.
  int64_t refresh_ahead_s = 60;
  uint32_t refresh_ahead_min_hits = 3;
  // Background refreshes (refresh-ahead, stale-while-revalidate) at once;
  // more are skipped. Default: 2.
  uint32_t max_background_refreshes = 2;
  // Seconds between two passes of the predictor over the lanes with
  // predict = true (docs/http_api.md, "Predictive pre-computation").
  // Default: 30.
  uint32_t predict_interval_s = 30;
  // Heartbeat comment interval of an SSE answer while a plan is computed,
  // and of a silent event stream (GET /v1/events). Default: 15 s.
  uint32_t sse_heartbeat_ms = 15'000;
  // Events a GET /v1/events subscriber may fall behind before it is
  // dropped (docs/http_api.md, "GET /v1/events"). Default: 1024.
  uint32_t events_buffer = 1024;
  // On SIGTERM, planner runs in progress get this long to finish; then they
  // are cancelled and their callers get 503. Default: 10 s.
  uint32_t stop_grace_ms = 10'000;
  // Bearer token for /v1/clear and /v1/evict; "" = none. Default: none.
  std::string admin_token;
  // Bearer token for every endpoint but /healthz and /readyz; "" = none.
  std::string api_token;
  // L1 bounds of the default namespace (and of the namespaces nobody
  // configured, which share its lane); 0 = unbounded.
  // Defaults: 100,000 entries, 256 MiB.
  uint64_t l1_max_entries = 100'000;
  uint64_t l1_max_bytes = 256ull << 20;
  // Disk tier (L2) byte bound; 0 = unbounded. Default: 1 GiB.
  uint64_t l2_max_bytes = 1ull << 30;
  // fsync the disk tier's log before a write is acknowledged. Default: false.
  bool sync_writes = false;
  // Write-behind mode of the disk tier: puts return once queued and a
  // thread writes them; at most this many keys wait (then puts write
  // synchronously). 0 = off (write-through). Default: 0.
  uint64_t write_behind_queue = 0;
  // How the disk tier opens a damaged write-ahead log: "point-in-time"
  // (replay up to the damage, drop the rest, log and count what was
  // dropped) or "strict" (refuse to start rather than drop anything).
  // Default: point-in-time.
  std::string disk_recovery = "point-in-time";
  // TTL of puts to the default namespace that give none; 0 = never expire.
  // Default: 3600 s.
  int64_t default_ttl_s = 3600;
  // I/O threads; 0 = one per hardware thread. Default: 0.
  unsigned io_threads = 0;
  // Request body limit (larger → 413). Default: 8 MiB.
  uint64_t max_body_bytes = 8ull << 20;
  // Largest plan (or /v1/entries value) stored, whoever made it: a PUT
  // (413) or a planner's answer (502, read no further). Default: 8 MiB.
  uint64_t max_plan_bytes = 8ull << 20;
  // Request head limit (larger → 431); chunk-size lines with their
  // extensions and trailers are bounded by it too (413). Default: 16 KiB.
  uint32_t max_header_bytes = 16u << 10;
  // Time a client has to send a whole request once it has begun, and to
  // read the answer. Default: 10 s.
  uint32_t read_timeout_ms = 10'000;
  // Time a keep-alive connection may sit between requests. Default: 60 s.
  uint32_t idle_timeout_ms = 60'000;
  // Open connections above which new ones get a 503 and are closed.
  // The listener gets it lowered to what the open-file limit leaves
  // (fd_budget.h); this field is not changed.
  // Default: 1000.
  uint32_t max_connections = 1000;
  // Key hash: "sha256" or "xxh3-128". Default: sha256.
  std::string hash = "sha256";
  // Context members dropped before hashing. Default: none.
  std::vector<std::string> ignored_context_fields;
  // false: plan lookups always miss and plan puts are not stored.
  // Default: true.
  bool cache_enabled = true;
  // A PUT /v1/plans to the default namespace whose compute_ms is below this
  // is not stored. Default: 0.
  int64_t min_compute_ms = 0;
  // spdlog level name: trace, debug, info, warn, error, critical, off.
  // Default: info.
  std::string log_level = "info";
  // How often expired entries are swept from memory. Default: 1000 ms.
  uint32_t purge_interval_ms = 1000;
  // Unconfigured namespaces (names no [namespaces.*] table or preset
  // defines) that /v1/stats and /metrics show one by one, those with the
  // most entries; the others are summed into one "(other)" row. Configured
  // namespaces are always shown. Default: 100.
  uint32_t stats_max_namespaces = 100;
  // GET /v1/stats/history (and the dashboard's charts): a snapshot every
  // this many seconds, plus one at start. Default: 10 s.
  uint32_t stats_history_interval_s = 10;
  // Snapshots kept (the oldest goes first). Default: 360 (an hour at 10 s).
  uint32_t stats_history_size = 360;
  // Memory-pressure watchdog (server/memory_watchdog.h). Where memory is
  // read: "auto" (the process's cgroup if it has a limit, else its RSS
  // against RSS + MemAvailable), "cgroup-v2", "cgroup-v1", "meminfo" or
  // "off". Default: auto.
  std::string memory_source = "auto";
  // Caps the limit of every source (bytes; 0 = none). Default: 0.
  uint64_t memory_budget = 0;
  // At or above this share of the limit, every L1 lane gives up
  // pressure_evict_fraction of its entries, again until under the mark
  // minus 0.05; lanes grow back under the mark minus 0.10.
  // Defaults: 0.80, 0.20.
  double memory_high_watermark = 0.80;
  double pressure_evict_fraction = 0.20;
  // Time between two readings. Default: 500 ms.
  uint32_t memory_check_interval_ms = 500;

  // The policy of every namespace (lane), from the presets, the TOML
  // [namespaces.*] tables and the four default-namespace inputs above; once
  // set, the truth for the default lane (the four fields only mirror it).
  // null = the presets with the default namespace taken from the fields
  // above (embedding, tests; see compose()).
  std::shared_ptr<const NamespacePolicies> namespaces;
  // The lanes with a planner of their own ([namespaces.x] planner_url /
  // planner_cmd): a server matter, so not in the library's lane policy.
  std::map<std::string, LanePlanner, std::less<>> namespace_planners;

  // Not settable from outside; for embedding and tests.
  // Time source of the cache; null = system_clock().
  std::shared_ptr<Clock> clock;
  // Logger; null = a stderr logger named "plancache" at log_level.
  std::shared_ptr<spdlog::logger> logger;
};

// One std::optional per flag: set when the flag was given.
struct ServeFlags {
  std::optional<std::string> config_path;
  std::optional<std::string> host;
  std::optional<std::string> port;  // text: validated by resolve_server_config
  std::optional<std::string> data_dir;
  std::optional<std::string> redis_url;
  std::optional<std::string> redis_key_prefix;
  std::optional<std::string> redis_timeout_ms;
  std::optional<std::string> redis_lease_ms;
  std::optional<std::string> access_log;
  std::optional<std::string> access_log_sample;
  std::optional<std::string> access_log_max_mb;
  std::optional<std::string> planner_url;
  std::optional<std::string> planner_cmd;
  std::optional<std::string> planner_incremental;
  std::optional<std::string> admin_token;
  std::optional<std::string> api_token;
  std::optional<std::string> l1_max_entries;
  std::optional<std::string> l1_max_bytes;
  std::optional<std::string> l2_max_bytes;
  std::optional<std::string> sync_writes;
  std::optional<std::string> write_behind_queue;
  std::optional<std::string> disk_recovery;
  std::optional<std::string> default_ttl_s;
  std::optional<std::string> io_threads;
  std::optional<std::string> max_body_bytes;
  std::optional<std::string> max_plan_bytes;
  std::optional<std::string> max_header_bytes;
  std::optional<std::string> read_timeout_ms;
  std::optional<std::string> idle_timeout_ms;
  std::optional<std::string> max_connections;
  std::optional<std::string> hash;
  std::optional<std::string> ignored_context_fields;  // comma-separated
  std::optional<std::string> cache_enabled;
  std::optional<std::string> min_compute_ms;
  std::optional<std::string> log_level;
  std::optional<std::string> purge_interval_ms;
  std::optional<std::string> stats_max_namespaces;
  std::optional<std::string> stats_history_interval_s;
  std::optional<std::string> stats_history_size;
  std::optional<std::string> memory_source;
  std::optional<std::string> memory_budget;
  std::optional<std::string> memory_high_watermark;
  std::optional<std::string> pressure_evict_fraction;
  std::optional<std::string> memory_check_interval_ms;
  std::optional<std::string> planner_timeout_ms;
  std::optional<std::string> planner_max_concurrent;
  std::optional<std::string> refresh_ahead_s;
  std::optional<std::string> refresh_ahead_min_hits;
  std::optional<std::string> max_background_refreshes;
  std::optional<std::string> predict_interval_s;
  std::optional<std::string> sse_heartbeat_ms;
  std::optional<std::string> events_buffer;
  std::optional<std::string> stop_grace_ms;
};

// Adds --config, --host, --port, ... to `serve_cmd`, each writing into
// `*flags` (which must outlive parsing). Values are taken as text and
// validated by resolve_server_config, so a bad value names its flag there.
void register_serve_flags(CLI::App& serve_cmd, ServeFlags* flags);

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
EnvLookup process_env();

// Applies the precedence described at the top of this file.
// Errors: invalid_argument naming the flag / variable / key and the value;
// unreadable or malformed TOML file; unknown TOML keys (all named).
Result<ServerConfig> resolve_server_config(const ServeFlags& flags, const EnvLookup& env);

}  // namespace plancache::server
