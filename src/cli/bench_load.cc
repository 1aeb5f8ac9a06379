// The workers of `plancache bench` (bench_load.h).
//
// Design:
// - Request bodies are built before the clock starts: one lookup body per
//   key (also the read-through body) and one PUT prefix per key, to which a
//   PUT appends the plan and "}". A miss's goal is made per request (worker,
//   sequence number, a per-run nonce), so it is never stored.
// - Answers are not parsed: a status, and for read-through the text
//   "cached":true, say what they are. The client spends little CPU per
//   request, so what is measured is mostly the server.
// - Each worker counts statuses in its own table, merged after the join;
//   the latencies go to the shared lock-free histograms; the request cap is a
//   shared atomic ticket counter (a ticket past the cap is not sent).
// - A worker gives up after kMaxConsecutiveFailures transport failures in a
//   row (the server is gone): the run then ends with those counted.
#include "cli/bench_load.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

namespace plancache::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kTick{200};
constexpr int kMaxConsecutiveFailures = 10;

std::string quoted_ns(const std::string& ns) { return nlohmann::json(ns).dump(); }

// What every worker reads; built once.
struct Bodies {
  std::vector<std::string> lookup;      // {"goal":"plancache bench key 7","namespace":"bench"}
  std::vector<std::string> put_prefix;  // {"goal":...,"namespace":...,"plan":
  std::string plan;                     // a JSON string of exactly value_bytes bytes
  std::string miss_prefix;              // {"namespace":"bench","goal":"plancache bench miss
};

Bodies make_bodies(const BenchLoad& load) {
  Bodies b;
  const std::string ns = quoted_ns(load.ns);
  for (uint64_t i = 0; i < load.keys; ++i) {
    const std::string goal = R"({"goal":"plancache bench key )" + std::to_string(i) + R"(")";
    b.lookup.push_back(goal + R"(,"namespace":)" + ns + "}");
    b.put_prefix.push_back(goal + R"(,"namespace":)" + ns + R"(,"plan":)");
  }
  // Letters and digits from a fixed seed: compressible about as much as text.
  static constexpr std::string_view kAlphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::minstd_rand random(42);
  b.plan.reserve(load.value_bytes);
  b.plan += '"';
  for (uint64_t i = 2; i < load.value_bytes; ++i) b.plan += kAlphabet[random() % kAlphabet.size()];
  b.plan += '"';
  const auto nonce = std::chrono::system_clock::now().time_since_epoch().count();
  b.miss_prefix =
      R"({"namespace":)" + ns + R"(,"goal":"plancache bench miss )" + std::to_string(nonce) + " ";
  return b;
}

// State shared by the workers and the main thread.
struct Shared {
  Shared(const Client& c, const BenchLoad& l, const Bodies& b, BenchLatencies& lat)
      : client(c), load(l), bodies(b), latencies(lat) {}

  const Client& client;
  const BenchLoad& load;
  const Bodies& bodies;
  BenchLatencies& latencies;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> tickets{0};  // requests taken (may pass the cap by one per worker)
  std::atomic<uint64_t> done{0};     // requests answered or failed
  std::atomic<uint64_t> failed{0};
  std::mutex mu;  // guards workers_done and first_error (and pairs with cv)
  std::condition_variable cv;
  int workers_done = 0;
  std::string first_error;
};

// One request of one worker: what to send and how its answer is read.
struct Request {
  BenchOp op = BenchOp::kHit;
  HttpMethod method = HttpMethod::kPost;
  const char* path = "/v1/plans/lookup";
  size_t route = 0;  // index into kBenchRouteNames
  std::string body;
};

Request make_request(const Shared& s, BenchOp op, uint64_t key, int worker, uint64_t seq) {
  Request r;
  r.op = op;
  switch (op) {
    case BenchOp::kHit:
      r.body = s.bodies.lookup[key];
      break;
    case BenchOp::kMiss:
      r.body = s.bodies.miss_prefix + std::to_string(worker) + " " + std::to_string(seq) + "\"}";
      break;
    case BenchOp::kPut:
      r.method = HttpMethod::kPut;
      r.path = "/v1/plans";
      r.route = 1;
      r.body = s.bodies.put_prefix[key] + s.bodies.plan + "}";
      break;
    case BenchOp::kReadThrough:
      r.path = "/v1/plans";
      r.route = 1;
      r.body = s.bodies.lookup[key];
      break;
  }
  return r;
}

// What an answer was, or nullopt when it is a failure.
std::optional<BenchAnswer> classify(BenchOp op, const HttpResponse& res, bool* not_stored) {
  switch (op) {
    case BenchOp::kHit:
    case BenchOp::kMiss:
      if (res.status == 200) return BenchAnswer::kHit;
      if (res.status == 404) return BenchAnswer::kMiss;
      return std::nullopt;
    case BenchOp::kPut:
      if (res.status == 200) *not_stored = true;  // {"stored":false,...}
      if (res.status == 201 || res.status == 200) return BenchAnswer::kPut;
      return std::nullopt;
    case BenchOp::kReadThrough:
      if (res.status != 200) return std::nullopt;
      return res.body.find(R"("cached":true)") != std::string::npos
                 ? BenchAnswer::kReadThroughHit
                 : BenchAnswer::kReadThroughComputed;
  }
  return std::nullopt;
}

void note_failure(Shared& s, std::string message) {
  s.failed.fetch_add(1, std::memory_order_relaxed);
  const std::lock_guard<std::mutex> lock(s.mu);
  if (s.first_error.empty()) s.first_error = std::move(message);
}

// Sends one request; counts it in `result`. Returns false on a transport
// failure.
bool send_one(Shared& s, HttpConnection& connection, Request request, BenchResult& result,
              bool timed) {
  const Clock::time_point start = Clock::now();
  Result<HttpResponse> res =
      connection.send(s.client.raw_request(request.method, request.path, std::move(request.body)));
  const int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  if (!res.is_ok()) {
    ++result.statuses[request.route][0];
    if (timed) ++result.failed;
    note_failure(s, "cannot reach plancache server at " + s.client.url().to_string() + ": " +
                        res.status().message());
    return false;
  }
  ++result.statuses[request.route][std::clamp(res->status, 0, kMaxStatus - 1)];
  bool not_stored = false;
  const std::optional<BenchAnswer> answer = classify(request.op, *res, &not_stored);
  if (not_stored) ++result.not_stored;
  if (!answer) {
    if (timed) ++result.failed;
    note_failure(s, std::string(kBenchOpNames[static_cast<size_t>(request.op)]) +
                        ": the server answered HTTP " + std::to_string(res->status) + ": " +
                        res->body.substr(0, 200));
  } else if (timed) {
    s.latencies[static_cast<size_t>(*answer)].record(nanos);
  }
  return true;
}

// The setup: worker `w` of `n` PUTs keys w, w + n, ...; stops at a failure.
void setup_worker(Shared& s, HttpConnection& connection, int w, BenchResult& result) {
  const auto n = static_cast<uint64_t>(s.load.connections);
  for (uint64_t key = static_cast<uint64_t>(w); key < s.load.keys; key += n) {
    if (s.failed.load(std::memory_order_relaxed) != 0) return;
    send_one(s, connection, make_request(s, BenchOp::kPut, key, w, 0), result, false);
  }
}

void mix_worker(Shared& s, HttpConnection& connection, int w, BenchResult& result) {
  std::minstd_rand random(static_cast<uint32_t>(w) * 7919u + 1u);
  std::discrete_distribution<size_t> pick(s.load.weights.begin(), s.load.weights.end());
  std::uniform_int_distribution<uint64_t> key_of(0, s.load.keys - 1);
  int consecutive_failures = 0;
  for (uint64_t seq = 0; !s.stop.load(std::memory_order_relaxed); ++seq) {
    if (s.tickets.fetch_add(1, std::memory_order_relaxed) >= s.load.max_requests) break;
    const auto op = static_cast<BenchOp>(pick(random));
    ++result.sent[static_cast<size_t>(op)];
    ++result.requests;
    const bool reached =
        send_one(s, connection, make_request(s, op, key_of(random), w, seq), result, true);
    s.done.fetch_add(1, std::memory_order_relaxed);
    consecutive_failures = reached ? 0 : consecutive_failures + 1;
    if (consecutive_failures >= kMaxConsecutiveFailures) break;
  }
}

// Runs `body(w, result)` on one thread per connection; the calling thread
// ticks until all are done, and sets `stop` at `deadline` (if any).
template <typename Body>
void run_workers(Shared& s, std::vector<BenchResult>& results, Body body,
                 std::optional<Clock::time_point> deadline, const BenchTick& on_tick,
                 Clock::time_point start) {
  const int n = s.load.connections;
  std::vector<std::thread> threads;
  for (int w = 0; w < n; ++w) {
    threads.emplace_back([&s, &results, &body, w] {
      body(w, results[static_cast<size_t>(w)]);
      const std::lock_guard<std::mutex> lock(s.mu);
      ++s.workers_done;
      s.cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(s.mu);
    while (!s.cv.wait_for(lock, kTick, [&] { return s.workers_done == n; })) {
      if (deadline && Clock::now() >= *deadline) s.stop.store(true);
      if (on_tick) {
        lock.unlock();
        on_tick(std::chrono::duration<double>(Clock::now() - start).count(), s.done.load(),
                s.failed.load());
        lock.lock();
      }
    }
    s.workers_done = 0;
  }
  for (std::thread& t : threads) t.join();
}

BenchResult merge(const std::vector<BenchResult>& parts) {
  BenchResult total;
  for (const BenchResult& p : parts) {
    total.requests += p.requests;
    total.failed += p.failed;
    total.not_stored += p.not_stored;
    for (size_t op = 0; op < kBenchOps; ++op) total.sent[op] += p.sent[op];
    for (size_t r = 0; r < kBenchRoutes; ++r) {
      for (int code = 0; code < kMaxStatus; ++code) total.statuses[r][code] += p.statuses[r][code];
    }
  }
  return total;
}

}  // namespace

Result<BenchResult> run_bench_load(const Client& client, const BenchLoad& load,
                                   BenchLatencies& latencies, const BenchTick& on_tick) {
  const Bodies bodies = make_bodies(load);
  Shared s(client, load, bodies, latencies);
  std::vector<HttpConnection> connections;
  for (int w = 0; w < load.connections; ++w) connections.push_back(client.connect());
  std::vector<BenchResult> parts(static_cast<size_t>(load.connections));
  auto connection = [&](int w) -> HttpConnection& { return connections[static_cast<size_t>(w)]; };

  const Clock::time_point setup_start = Clock::now();
  run_workers(
      s, parts, [&](int w, BenchResult& r) { setup_worker(s, connection(w), w, r); }, std::nullopt,
      {}, setup_start);
  const double setup_s = std::chrono::duration<double>(Clock::now() - setup_start).count();
  if (s.failed.load() != 0) return Status::unavailable("setup: " + s.first_error);

  const Clock::time_point start = Clock::now();
  run_workers(
      s, parts, [&](int w, BenchResult& r) { mix_worker(s, connection(w), w, r); },
      start + load.duration, on_tick, start);
  BenchResult result = merge(parts);
  result.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  result.setup_s = setup_s;
  result.first_error = s.first_error;
  return result;
}

}  // namespace plancache::cli
