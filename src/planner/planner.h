// Planner: the upstream that makes a plan on a cache miss (SPEC §3,
// --planner-url / --planner-cmd). The read-through path of the server calls
// plan() from a worker thread when no tier has the plan; the answer is stored
// and returned to every caller waiting for that key.
//
// Two implementations:
// - HTTP (new_http_planner): POST {"goal","context","namespace"} to a URL,
//   the response body is the plan JSON (a Plancache-Priority header may
//   add an eviction hint). Connections are reused; a call has a
//   timeout; a connection failure (refused, reset before any answer) is
//   retried a bounded number of times with exponential backoff. An answer
//   that arrived (any status, any body) is never retried.
// - Command (new_command_planner): runs a command through /bin/sh -c, writes
//   the same JSON to its stdin, reads the plan JSON from its stdout. A
//   command still running at its timeout is killed (SIGKILL to its process
//   group). At most max_concurrent commands run at once; further calls wait.
//
// Thread-safety: plan() may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "plancache/entry.h"
#include "plancache/status.h"

namespace plancache::internal {

struct PlanRequest {
  std::string goal;
  std::string context_json = "null";  // JSON text: an object, or null
  std::string ns = "default";
  // Incremental planning (docs/http_api.md, "The incremental planner
  // protocol"): the JSON text of the request's "incremental" member,
  // {"previous":{"goal","context","plan"},"changes":[...],"impact":x};
  // "" = a plain request. Sent only to a planner that accepts_incremental().
  std::string incremental_json;
};

// The JSON document sent to a planner: {"goal","context","namespace"}, and
// "incremental" when the request carries one.
std::string planner_request_body(const PlanRequest& request);

// A plan and what the planner said about it beside the plan.
struct PlannerAnswer {
  std::string plan;  // compact JSON text, as Planner::plan() returns it
  // The planner's eviction hint for the plan (stored as EntryMeta::priority).
  EntryPriority priority = EntryPriority::kNormal;
};

// The HTTP response header a planner may set to give its plan an eviction
// hint: "important" or "temporary" (docs/http_api.md, read-through).
inline constexpr std::string_view kPriorityHeader = "Plancache-Priority";

class Planner {
 public:
  virtual ~Planner() = default;

  // Makes one plan. Returns the plan as compact JSON text (the planner's
  // answer parsed and re-serialised, so it is always valid JSON).
  // Errors (all kBadGateway, the message naming the planner and the cause):
  // connection refused / reset after the retries, timeout after N ms,
  // HTTP status other than 2xx (with the start of the body), an answer that
  // is not JSON, a command that exits non-zero (with the start of its
  // stderr) or is killed at its timeout.
  virtual Result<std::string> plan(const PlanRequest& request) = 0;

  // plan(), with the hints the planner gave beside the plan: an HTTP
  // planner's kPriorityHeader (another value than "important",
  // "temporary" or "normal" is bad_gateway, naming the header). A command
  // planner's stdout is the plan alone: the default is plan() without hints.
  virtual Result<PlannerAnswer> plan_with_hints(const PlanRequest& request);

  // "http://host:port/path" or "command '<cmd>'": for log lines and errors.
  virtual std::string describe() const = 0;

  // Whether the planner declared that it understands incremental requests
  // (PlanRequest::incremental_json) and may answer {"patch":[...]}: the
  // `incremental` option of its kind (the config's planner_incremental).
  // Default: false.
  virtual bool accepts_incremental() const { return false; }

  // For a server that is stopping: every plan() call running now ends
  // within ~100 ms, and every later one at once, with kUnavailable ("... the
  // server is stopping"); a running command is killed, an HTTP exchange is
  // aborted (a host-name lookup in progress is not: it ends by its
  // deadline). Irreversible. Thread-safe.
  virtual void cancel_all() = 0;
};

// The error of a call ended by cancel_all(), for `described` (describe()).
Status planner_cancelled(const std::string& described);

struct HttpPlannerOptions {
  // http://host[:port][/path]. https is not supported (invalid_argument).
  std::string url;
  // Whole call: connect, send, read the answer. Default: 120 s.
  uint32_t timeout_ms = 120'000;
  // Extra attempts after a connection failure. Default: 2.
  uint32_t max_retries = 2;
  // Backoff before retry n (n = 1, 2, ...) is initial_backoff_ms * 2^(n-1).
  // Default: 50 ms.
  uint32_t initial_backoff_ms = 50;
  // Idle keep-alive connections kept for reuse. Default: 16.
  uint32_t max_idle_connections = 16;
  // Largest answer accepted (larger → bad_gateway). Default: 64 MiB.
  uint64_t max_answer_bytes = 64ull << 20;
  // The planner understands incremental requests (accepts_incremental()).
  // Default: false.
  bool incremental = false;
};

// Errors: invalid_argument for a URL that is not http://host[:port][/path].
Result<std::unique_ptr<Planner>> new_http_planner(HttpPlannerOptions options);

struct CommandPlannerOptions {
  // Run as /bin/sh -c '<command>'. REQUIRED: non-empty.
  std::string command;
  // Default: 120 s.
  uint32_t timeout_ms = 120'000;
  // Commands running at once; more calls wait for a slot. Default: 8.
  uint32_t max_concurrent = 8;
  // Largest stdout accepted (larger → bad_gateway, command killed).
  // Default: 64 MiB.
  uint64_t max_answer_bytes = 64ull << 20;
  // The command understands incremental requests (accepts_incremental()).
  // Default: false.
  bool incremental = false;
};

// Errors: invalid_argument for an empty command or max_concurrent 0.
Result<std::unique_ptr<Planner>> new_command_planner(CommandPlannerOptions options);

}  // namespace plancache::internal
