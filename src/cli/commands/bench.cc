// `plancache bench --server URL`: a built-in measurement of a running
// server -- lookups that hit and miss, puts and read-through hits over N
// keep-alive connections -- printing latency percentiles and throughput per
// kind of answer (the load itself: cli/bench_load.h).
//
// Design:
// - Before anything is sent, GET /v1/stats checks that the server answers
//   (an unreachable server or a refused token exits 1, as every client
//   command) and says whether it has a planner: without one, read-through is
//   left out of the mix with a note (POST /v1/plans is what a read-through
//   deployment uses; a cache-only one measures lookups and puts).
// - Percentiles come from LatencyHistogram (src/cache, the histogram behind
//   /v1/stats's latencies): ~12 % bucket error, each percentile capped at
//   the largest latency seen, so p50 <= p90 <= p99 <= p99.9 <= max.
// - Only this thread writes output: the progress bar (stderr, when it is a
//   terminal, or --progress always), then the report (text or --json).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/bench_load.h"
#include "cli/commands/commands.h"
#include "plancache/entry.h"

namespace plancache::cli {
namespace {

constexpr int kMaxConnections = 256;
constexpr uint64_t kMaxValueBytes = 8u << 20;  // the server's default --max-plan-bytes
constexpr int kBarWidth = 24;
constexpr std::array<std::pair<std::string_view, double>, 4> kQuantiles = {
    {{"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p99.9", 0.999}}};

struct BenchFlags {
  ClientFlags client;
  BenchLoad load;
  double duration_s = 10;
  std::string mix = "hit=70,miss=10,put=10,read-through=10";
  std::string progress = "auto";
  bool json = false;
  bool read_through_left_out = false;  // asked for, but the server has no planner
};

// "hit=70,miss=10,put=10,read-through=10": names from kBenchOpNames, each
// at most once, integer weights; a name left out weighs 0.
Result<std::array<uint32_t, kBenchOps>> parse_mix(std::string_view text) {
  std::array<uint32_t, kBenchOps> weights{};
  std::array<bool, kBenchOps> seen{};
  uint64_t sum = 0;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? "" : text.substr(comma + 1);
    const size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    const auto op = std::find(kBenchOpNames.begin(), kBenchOpNames.end(), name);
    if (eq == std::string_view::npos || op == kBenchOpNames.end()) {
      return Status::invalid_argument(
          "--mix: expected NAME=WEIGHT with NAME one of hit, miss, "
          "put, read-through; got '" +
          std::string(item) + "'");
    }
    const auto i = static_cast<size_t>(op - kBenchOpNames.begin());
    const std::string weight(item.substr(eq + 1));
    char* end = nullptr;
    const unsigned long long w = std::strtoull(weight.c_str(), &end, 10);
    if (seen[i] || weight.empty() || *end != '\0' || weight[0] == '-' || w > 1'000'000) {
      return Status::invalid_argument("--mix: '" + std::string(item) +
                                      "': each name once, with an integer weight 0..1000000");
    }
    seen[i] = true;
    weights[i] = static_cast<uint32_t>(w);
    sum += w;
  }
  if (sum == 0) return Status::invalid_argument("--mix: the weights add up to 0");
  return weights;
}

// Whether the server has a planner (GET /v1/stats planning.planner_configured);
// nullopt after printing why the server could not be asked.
std::optional<bool> ask_server(const Client& client, std::ostream& err) {
  std::optional<Answer> stats = client.call(HttpMethod::kGet, "/v1/stats", nullptr, err);
  if (!stats) return std::nullopt;
  if (!stats->ok()) {
    report_server_error(*stats, err);
    return std::nullopt;
  }
  const nlohmann::json* planning = nullptr;
  if (stats->body.is_object() && stats->body.contains("planning")) {
    planning = &stats->body["planning"];
  }
  return planning != nullptr && planning->is_object() &&
         planning->value("planner_configured", false);
}

// "\r[#######-----------]  3.2/10.0 s  41234 requests  12885 req/s  0 failed"
void draw_bar(std::ostream& err, double elapsed_s, double duration_s, uint64_t requests,
              uint64_t failed) {
  const double share = std::clamp(elapsed_s / duration_s, 0.0, 1.0);
  const int filled = static_cast<int>(share * kBarWidth);
  char line[200];
  std::snprintf(line, sizeof line,
                "\r[%s%s] %5.1f/%.1f s  %llu requests  %.0f req/s  %llu failed\x1b[K",
                std::string(static_cast<size_t>(filled), '#').c_str(),
                std::string(static_cast<size_t>(kBarWidth - filled), '-').c_str(), elapsed_s,
                duration_s, static_cast<unsigned long long>(requests),
                elapsed_s > 0 ? static_cast<double>(requests) / elapsed_s : 0.0,
                static_cast<unsigned long long>(failed));
  err << line << std::flush;
}

double rate(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

double round3(double x) { return std::round(x * 1000.0) / 1000.0; }

nlohmann::json answer_json(const internal::LatencyHistogram& h, double elapsed_s) {
  const LatencySummary summary = h.summary();
  nlohmann::json latency = nlohmann::json::object();
  for (const auto& [name, q] : kQuantiles) latency[std::string(name)] = round3(h.percentile_us(q));
  latency["max"] = round3(summary.max_us);
  latency["mean"] =
      round3(summary.count == 0 ? 0.0 : summary.sum_us / static_cast<double>(summary.count));
  return {{"count", summary.count},
          {"throughput_rps", round3(rate(summary.count, elapsed_s))},
          {"latency_us", std::move(latency)}};
}

std::vector<std::string> notes_of(const BenchFlags& f, const BenchResult& r) {
  std::vector<std::string> notes;
  if (f.read_through_left_out) {
    notes.push_back(
        "read-through left out: the server has no planner (POST /v1/plans is a "
        "read-through deployment's endpoint)");
  }
  if (r.not_stored > 0) {
    notes.push_back(std::to_string(r.not_stored) +
                    " puts were not stored (the server has the cache disabled)");
  }
  if (!r.first_error.empty()) notes.push_back("first failure: " + r.first_error);
  return notes;
}

nlohmann::json report_json(const BenchFlags& f, bool planner, const BenchResult& r,
                           const BenchLatencies& latencies) {
  nlohmann::json answers = nlohmann::json::object();
  for (size_t a = 0; a < kBenchAnswers; ++a) {
    answers[std::string(kBenchAnswerNames[a])] = answer_json(latencies[a], r.elapsed_s);
  }
  nlohmann::json mix = nlohmann::json::object();
  nlohmann::json sent = nlohmann::json::object();
  for (size_t op = 0; op < kBenchOps; ++op) {
    mix[std::string(kBenchOpNames[op])] = f.load.weights[op];
    sent[std::string(kBenchOpNames[op])] = r.sent[op];
  }
  nlohmann::json by_route = nlohmann::json::object();
  for (size_t route = 0; route < kBenchRoutes; ++route) {
    nlohmann::json codes = nlohmann::json::object();
    for (int code = 0; code < kMaxStatus; ++code) {
      const uint64_t n = r.statuses[route][static_cast<size_t>(code)];
      if (n != 0) codes[code == 0 ? std::string("none") : std::to_string(code)] = n;
    }
    by_route[std::string(kBenchRouteNames[route])] = std::move(codes);
  }
  return {{"server", f.client.server},
          {"namespace", f.load.ns},
          {"connections", f.load.connections},
          {"keys", f.load.keys},
          {"value_bytes", f.load.value_bytes},
          {"read_through", planner},
          {"mix", std::move(mix)},
          {"setup", {{"puts", f.load.keys}, {"seconds", round3(r.setup_s)}}},
          {"duration_s", round3(r.elapsed_s)},
          {"requests", r.requests},
          {"throughput_rps", round3(rate(r.requests, r.elapsed_s))},
          {"failed", r.failed},
          {"sent", std::move(sent)},
          {"answers", std::move(answers)},
          {"server_requests", std::move(by_route)},
          {"notes", notes_of(f, r)}};
}

void report_text(const BenchFlags& f, const BenchResult& r, const BenchLatencies& latencies,
                 std::ostream& out) {
  char line[512];
  std::snprintf(line, sizeof line,
                "plancache bench: %s, namespace %s, %d connections, %llu keys, plans of %llu "
                "bytes\nsetup: %llu puts in %.2f s\n%.2f s: %llu requests, %.1f req/s, %llu "
                "failed\n\n",
                f.client.server.c_str(), f.load.ns.c_str(), f.load.connections,
                static_cast<unsigned long long>(f.load.keys),
                static_cast<unsigned long long>(f.load.value_bytes),
                static_cast<unsigned long long>(f.load.keys), r.setup_s, r.elapsed_s,
                static_cast<unsigned long long>(r.requests), rate(r.requests, r.elapsed_s),
                static_cast<unsigned long long>(r.failed));
  out << line;
  out << "answer                    count      req/s      p50      p90      p99    p99.9      max"
         "  (ms)\n";
  for (size_t a = 0; a < kBenchAnswers; ++a) {
    const internal::LatencyHistogram& h = latencies[a];
    const LatencySummary s = h.summary();
    if (s.count == 0) continue;
    std::snprintf(line, sizeof line, "%-22s %8llu %10.1f %8.3f %8.3f %8.3f %8.3f %8.3f\n",
                  std::string(kBenchAnswerNames[a]).c_str(),
                  static_cast<unsigned long long>(s.count), rate(s.count, r.elapsed_s),
                  h.percentile_us(0.50) / 1000, h.percentile_us(0.90) / 1000,
                  h.percentile_us(0.99) / 1000, h.percentile_us(0.999) / 1000, s.max_us / 1000);
    out << line;
  }
  for (const std::string& note : notes_of(f, r)) out << "note: " << note << "\n";
  out << std::flush;
}

int run_bench(BenchFlags flags, const CliIo& io) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, "bench", client.status().message());
  if (Status s = validate_namespace_name(flags.load.ns); !s.is_ok()) {
    return usage_error(io.err, "bench", "--namespace: " + s.message());
  }
  auto weights = parse_mix(flags.mix);
  if (!weights.is_ok()) return usage_error(io.err, "bench", weights.status().message());
  flags.client.server = client->url().to_string();
  flags.load.duration = std::chrono::milliseconds(std::llround(flags.duration_s * 1000));
  const std::optional<bool> planner = ask_server(*client, io.err);
  if (!planner) return kExitFailure;
  flags.load.weights = *weights;
  uint32_t& read_through = flags.load.weights[static_cast<size_t>(BenchOp::kReadThrough)];
  if (!*planner && read_through > 0) {
    read_through = 0;
    flags.read_through_left_out = true;
  }
  if (std::all_of(flags.load.weights.begin(), flags.load.weights.end(),
                  [](uint32_t w) { return w == 0; })) {
    return usage_error(io.err, "bench", "--mix: only read-through, and the server has no planner");
  }
  const bool bar =
      flags.progress == "always" || (flags.progress == "auto" && stderr_is_terminal(io.err));
  BenchTick tick;
  if (bar) {
    tick = [&](double elapsed_s, uint64_t requests, uint64_t failed) {
      draw_bar(io.err, elapsed_s, flags.duration_s, requests, failed);
    };
  }
  auto latencies = std::make_unique<BenchLatencies>();
  Result<BenchResult> result = run_bench_load(*client, flags.load, *latencies, tick);
  if (bar) io.err << "\r\x1b[K" << std::flush;  // the report replaces the bar
  if (!result.is_ok()) {
    io.err << "error: " << result.status().message() << "\n";
    return kExitFailure;
  }
  if (flags.json) {
    io.out << report_json(flags, *planner, *result, *latencies).dump(2) << "\n" << std::flush;
  } else {
    report_text(flags, *result, *latencies, io.out);
  }
  return result->failed == 0 ? kExitOk : kExitFailure;
}

constexpr const char* kFooter =
    "What is sent: --keys goals \"plancache bench key <i>\" in --namespace are first PUT\n"
    "once each (the setup, not timed) with a plan of exactly --value-bytes bytes (a JSON\n"
    "string of letters and digits). Then --connections workers, each on its own\n"
    "keep-alive connection, send the --mix until --duration has passed or --max-requests\n"
    "were sent:\n"
    "  hit           POST /v1/plans/lookup of a stored key\n"
    "  miss          POST /v1/plans/lookup of a goal never stored\n"
    "  put           PUT /v1/plans of a stored key (same size)\n"
    "  read-through  POST /v1/plans of a stored key (only when the server has a planner;\n"
    "                a goal that is not stored is never asked for, so the planner only\n"
    "                runs for a stored plan the server evicted)\n"
    "Answers are counted by what they say: a lookup answered 200 is a hit, 404 a miss.\n"
    "The report gives, per kind of answer, the count, the throughput and the latency\n"
    "percentiles (p50, p90, p99, p99.9, max; ~12 % bucket error), and the requests sent\n"
    "by route and HTTP status (setup included), as /v1/stats's http.requests counts them.\n"
    "With stderr on a terminal a progress bar is drawn there. The keys stay in the\n"
    "server afterwards (clear them with: plancache clear --namespace bench).\n\n"
    "Exit codes: 0 the run finished with no failed request, 1 the server could not be\n"
    "reached, refused the token or the setup, or a request failed (a transport failure or\n"
    "an unexpected status), 2 bad usage.\n\n"
    "Examples:\n"
    "  plancache bench --server http://127.0.0.1:8080 --duration 10 --connections 4\n"
    "  plancache bench --value-bytes 32768 --mix hit=90,put=10 --json";

void add_bench_flags(CLI::App& app, BenchFlags& f) {
  app.add_option("--duration", f.duration_s, "seconds the mix runs (default 10)")
      ->check(CLI::Range(0.001, 86'400.0))
      ->option_text("SECONDS");
  app.add_option("--connections", f.load.connections,
                 "workers, each with its own keep-alive connection (1..256, default 4)")
      ->check(CLI::Range(1, kMaxConnections))
      ->option_text("N");
  app.add_option("--value-bytes", f.load.value_bytes,
                 "bytes of each plan's JSON (2..8388608, default 1024)")
      ->check(CLI::Range(uint64_t{2}, kMaxValueBytes))
      ->option_text("B");
  app.add_option("--keys", f.load.keys,
                 "stored keys the mix picks from, uniformly (1..10000000, "
                 "default 1000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}))
      ->option_text("K");
  app.add_option("--max-requests", f.load.max_requests,
                 "stop after this many requests of the mix even before --duration "
                 "(default 10000000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000'000}))
      ->option_text("N");
  app.add_option("--mix", f.mix,
                 "weights of what is sent (default hit=70,miss=10,put=10,read-through=10)")
      ->option_text("NAME=W,...");
  app.add_option("--namespace", f.load.ns, "namespace of the bench's keys (default bench)")
      ->option_text("NS");
  app.add_option("--progress", f.progress,
                 "progress bar on stderr: auto (when stderr is a terminal), always, never "
                 "(default auto)")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->option_text("WHEN");
  app.add_flag("--json", f.json, "print the report as JSON (default: a table)");
}

}  // namespace

Command add_bench_command(CLI::App& root) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* app = root.add_subcommand(
      "bench",
      "Measure a running server: lookups that hit and miss, puts and read-through hits "
      "over N connections; prints latency percentiles and throughput.");
  add_bench_flags(*app, *flags);
  add_client_flags(*app, &flags->client);
  app->footer(kFooter);
  return {app, [flags](const CliIo& io) { return run_bench(*flags, io); }};
}

}  // namespace plancache::cli
