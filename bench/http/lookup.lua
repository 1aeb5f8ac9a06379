-- wrk script: POST /v1/plans/lookup (or PLANCACHE_BENCH_PATH, e.g. the
-- read-through POST /v1/plans, which takes the same body) cycling through the
-- goals preloaded by bench/http.sh ("bench goal 0000" .. "bench goal 0999":
-- 100 % hits).
--
-- Every request is formatted once per thread in init() (wrk.format builds
-- the whole HTTP request text), so request() only picks the next one and the
-- load generator spends its CPU on sockets, not on Lua string building.
-- Each thread starts at a different offset so the threads do not walk the
-- key space in lockstep.
--
-- done() prints one machine-readable line for bench/http.sh:
--   WRK_RESULT requests=N duration_us=N rps=N p50_us=N p90_us=N p99_us=N
--              p999_us=N max_us=N errors_status=N errors_socket=N

local goals = tonumber(os.getenv("PLANCACHE_BENCH_GOALS") or "1000")
local namespace = os.getenv("PLANCACHE_BENCH_NAMESPACE")
local path = os.getenv("PLANCACHE_BENCH_PATH") or "/v1/plans/lookup"

local thread_count = 0
function setup(thread)
  thread:set("offset", thread_count * 389)
  thread_count = thread_count + 1
end

local requests = {}
local next_index = 0

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  for i = 0, goals - 1 do
    local body = string.format('{"goal":"bench goal %04d"', i)
    if namespace and namespace ~= "" then
      body = body .. string.format(',"namespace":"%s"', namespace)
    end
    body = body .. "}"
    requests[i] = wrk.format("POST", path, headers, body)
  end
  next_index = (tonumber(offset) or 0) % goals
end

function request()
  local r = requests[next_index]
  next_index = (next_index + 1) % goals
  return r
end

function done(summary, latency, requests_unused)
  local errors_socket = summary.errors.connect + summary.errors.read +
                        summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d " ..
    "p999_us=%d max_us=%d errors_status=%d errors_socket=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, summary.errors.status, errors_socket))
end
