// `plancache simulate --trace FILE`: replays an access trace through the
// memory tier's policies (the real tier code, src/sim/replay.h) and Belady's
// offline optimum, at one or more cache sizes, and prints hit rate, byte hit
// rate, planner-seconds saved and the share of the optimum.
//
// Design:
// - Everything the user typed is checked before the trace is read (policies,
//   sizes, the plot file is opened): a typo costs nothing.
// - Passes: optimal needs every request's next use, and `--sizes auto` the
//   number of distinct keys, so either makes a first pass over the trace
//   (scan_trace) before the replay pass; otherwise the trace is read once.
//   Every simulated cache is fed in the same replay pass.
// - The progress bar (stderr, only when it is a terminal, or --progress
//   always) is drawn from the replay's callback at most every kRedraw, and
//   erased before anything else is printed.
// - A bad line stops the run: "error: FILE:LINE: what is wrong", exit 2.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands/commands.h"
#include "sim/plot.h"
#include "sim/replay.h"
#include "sim/report.h"
#include "sim/sizes.h"
#include "sim/trace.h"

namespace plancache::cli {
namespace {

using internal::SimPolicy;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kFooter =
    "Formats (--format; auto: from the file name -- arc-*, penalties-*, lirs-*, *.csv,\n"
    "*.jsonl -- then from the first line). gzip and xz files are read directly.\n"
    "  keys       one key a line: an integer, or any other token (hashed)   42\n"
    "  csv        key[,size[,cost_ms]], optional header line key,...        plan-7,5120,1800\n"
    "  jsonl      {\"key\",\"size\"?,\"cost_ms\"?,\"t\"?,\"ns\"?,\"op\"?} a line (the server's\n"
    "             access log; a line whose op is not \"get\" is skipped)\n"
    "                                       {\"key\":\"plan-7\",\"size\":5120,\"cost_ms\":1800}\n"
    "  arc        start_block block_count ignored request_no                100 8 0 1 (keys "
    "100..107)\n"
    "  penalties  op 0xADDRESS size hit_penalty miss_penalty (cost = miss)  l 0x1fffff58 1 1 100\n"
    "  lirs       one integer key a line; '*' marker lines skipped\n"
    "Blank lines (and in keys and csv, lines starting with '#') are skipped.\n\n"
    "Policies:\n"
    "  lru, tinylfu, cost  the memory tier itself, the code a server lane runs: max_entries\n"
    "                      (with --by bytes, max_bytes) = the size, shards by the tier's rule\n"
    "  optimal             Belady's MIN, offline: evicts the entry needed farthest in the\n"
    "                      future, and does not admit one needed later than all of those.\n"
    "                      By entries it is the optimum: no policy gets more hits. By bytes\n"
    "                      the same rule over charged bytes is a heuristic bound, not the\n"
    "                      optimum (which is NP-hard): a policy may exceed it.\n\n"
    "Columns: hit rate = hits / requests; byte hit rate = bytes of the hits / bytes requested\n"
    "(the requests' sizes); planner-s saved = the hits' cost_ms, in seconds; of optimal =\n"
    "hits / optimal's hits at the same size.\n\n"
    "--sizes auto: 16 sizes from 1/1000 of the distinct keys to all of them (--by bytes: of\n"
    "their charged bytes); the knee is the smallest of them whose hit rate reaches 90 % of the\n"
    "best on the ladder (on tinylfu's curve, else the first policy's).\n\n"
    "Time and memory: the trace is read once, twice with optimal or --sizes auto (a progress\n"
    "bar on a terminal). optimal keeps 8 bytes per request (10 M requests = 80 MB); counting\n"
    "distinct keys ~32 bytes a key; each simulated cache holds up to its size of entries.\n\n"
    "Exit codes: 0 success; 2 bad usage or a bad trace (a bad line as FILE:LINE: problem);\n"
    "1 any other failure.\n\n"
    "Examples:\n"
    "  plancache simulate --trace lirs-gli.trace.gz --sizes 1000,1500 --policies lru,optimal\n"
    "  plancache simulate --trace access.jsonl --plot hit-rate.svg\n"
    "  plancache simulate --trace penalties-gcc.trace.xz --by bytes --sizes 64k,1MiB --json\n"
    "  plancache simulate --trace arc-oltp.trace.gz --print-keys > oltp.keys";

constexpr std::chrono::milliseconds kRedraw{200};
constexpr int kBarWidth = 24;

struct SimulateFlags {
  std::string trace;
  std::string format = "auto";
  std::string sizes = "auto";
  std::string policies;  // empty: every available policy
  std::string by = "entries";
  bool json = false;
  std::string plot;
  uint32_t shards = 0;
  std::string progress = "auto";
  bool print_keys = false;
};

// What the flags say, checked.
struct Plan {
  internal::TraceFormat format = internal::TraceFormat::kAuto;
  std::vector<SimPolicy> policies;
  std::vector<uint64_t> sizes;  // empty: auto
  internal::SizeUnit by = internal::SizeUnit::kEntries;
};

std::string default_policies() {
  std::string names;
  for (SimPolicy p :
       {SimPolicy::kLru, SimPolicy::kTinyLfu, SimPolicy::kCost, SimPolicy::kOptimal}) {
    if (p != SimPolicy::kOptimal && !internal::tier_policy(p)) continue;
    names += (names.empty() ? "" : ",") + std::string(internal::sim_policy_name(p));
  }
  return names;
}

Result<std::vector<SimPolicy>> parse_policies(const std::string& text) {
  std::vector<SimPolicy> policies;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    Result<SimPolicy> p = internal::parse_sim_policy(text.substr(pos, comma - pos));
    if (!p.is_ok()) return p.status();
    policies.push_back(*p);
    pos = comma + 1;
  }
  return policies;
}

Result<Plan> make_plan(const SimulateFlags& flags) {
  Plan plan;
  Result<internal::TraceFormat> format = internal::parse_trace_format(flags.format);
  if (!format.is_ok()) return format.status();
  plan.format = *format;
  Result<std::vector<SimPolicy>> policies =
      parse_policies(flags.policies.empty() ? default_policies() : flags.policies);
  if (!policies.is_ok()) return policies.status();
  plan.policies = std::move(policies).value();
  if (flags.sizes != "auto") {
    Result<std::vector<uint64_t>> sizes = internal::parse_sizes(flags.sizes);
    if (!sizes.is_ok()) return sizes.status();
    plan.sizes = std::move(sizes).value();
  }
  plan.by = flags.by == "bytes" ? internal::SizeUnit::kBytes : internal::SizeUnit::kEntries;
  return plan;
}

// --- progress -------------------------------------------------------------------

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::ostream& err) : enabled_(enabled), err_(err) {}
  ~ProgressBar() { clear(); }

  // A callback for one pass, labelled e.g. "pass 1/2".
  internal::ProgressFn pass(std::string label) {
    if (!enabled_) return {};
    return [this, label = std::move(label)](uint64_t read, uint64_t total, uint64_t requests) {
      draw(label, read, total, requests);
    };
  }
  // Erases the bar (before the results are printed).
  void clear() {
    if (drawn_) err_ << "\r\x1b[K" << std::flush;
    drawn_ = false;
  }

 private:
  void draw(const std::string& label, uint64_t read, uint64_t total, uint64_t requests) {
    const SteadyClock::time_point now = SteadyClock::now();
    if (drawn_ && now - last_ < kRedraw) return;
    last_ = now;
    drawn_ = true;
    const double share = total == 0 ? 1.0 : std::min(1.0, static_cast<double>(read) / total);
    const int filled = static_cast<int>(share * kBarWidth);
    char line[200];
    std::snprintf(line, sizeof line, "\r%s [%s%s] %3d%%  %.1f/%.1f MB  %llu requests  %.1f s\x1b[K",
                  label.c_str(), std::string(static_cast<size_t>(filled), '#').c_str(),
                  std::string(static_cast<size_t>(kBarWidth - filled), '-').c_str(),
                  static_cast<int>(share * 100), static_cast<double>(read) / 1e6,
                  static_cast<double>(total) / 1e6, static_cast<unsigned long long>(requests),
                  std::chrono::duration<double>(now - start_).count());
    err_ << line << std::flush;
  }

  bool enabled_;
  std::ostream& err_;
  bool drawn_ = false;
  SteadyClock::time_point start_ = SteadyClock::now();
  SteadyClock::time_point last_{};
};

// --- the passes -------------------------------------------------------------------

// A trace error: bad input (exit 2) unless it is something else.
int trace_error(std::ostream& err, const Status& status) {
  err << "error: " << status.message() << "\n";
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

int print_keys(const SimulateFlags& flags, const Plan& plan, const CliIo& io) {
  Result<std::unique_ptr<internal::TraceReader>> reader =
      internal::open_trace(flags.trace, plan.format);
  if (!reader.is_ok()) return trace_error(io.err, reader.status());
  std::string chunk;
  internal::Access access;
  for (;;) {
    Result<bool> more = (*reader)->next(&access);
    if (!more.is_ok()) {
      io.out << chunk << std::flush;
      return trace_error(io.err, more.status());
    }
    if (!*more) break;
    chunk += std::to_string(internal::access_identity(access));
    chunk += '\n';
    if (chunk.size() >= (64 << 10)) {
      io.out << chunk;
      chunk.clear();
    }
  }
  io.out << chunk << std::flush;
  return kExitOk;
}

// The knee is looked for on the server's default policy when it was run.
SimPolicy knee_policy(const std::vector<SimPolicy>& policies) {
  for (SimPolicy p : policies) {
    if (p == SimPolicy::kTinyLfu) return p;
  }
  for (SimPolicy p : policies) {
    if (p != SimPolicy::kOptimal) return p;
  }
  return policies.front();
}

// Runs the passes and fills `report`; returns an exit code (kExitOk to go on).
int simulate(const SimulateFlags& flags, const Plan& plan, ProgressBar& bar, const CliIo& io,
             internal::SimReport* report) {
  const bool optimal = std::find(plan.policies.begin(), plan.policies.end(), SimPolicy::kOptimal) !=
                       plan.policies.end();
  const bool scan_first = optimal || plan.sizes.empty();
  const std::string passes = scan_first ? "/2" : "/1";
  internal::TraceScan scan;
  if (scan_first) {
    Result<internal::TraceScan> scanned = internal::scan_trace(
        flags.trace, plan.format, optimal, bar.pass("pass 1" + passes + " scan"));
    if (!scanned.is_ok()) return trace_error(io.err, scanned.status());
    scan = std::move(scanned).value();
  }
  internal::ReplayOptions options;
  options.policies = plan.policies;
  options.by = plan.by;
  options.shards = flags.shards;
  options.sizes = plan.sizes;
  if (options.sizes.empty()) {
    options.sizes = internal::size_ladder(
        plan.by == internal::SizeUnit::kEntries ? scan.unique_keys : scan.unique_bytes);
  }
  Result<internal::ReplayRun> run =
      internal::replay_trace(flags.trace, scan_first ? scan.format : plan.format, options,
                             optimal ? &scan.next_uses : nullptr, !scan_first,
                             bar.pass((scan_first ? "pass 2" : "pass 1") + passes + " replay"));
  if (!run.is_ok()) return trace_error(io.err, run.status());
  report->trace = flags.trace;
  report->format = run->format;
  report->requests = run->requests;
  report->unique_keys = scan_first ? scan.unique_keys : run->unique_keys;
  report->by = plan.by;
  report->has_costs = run->has_costs;
  report->shards = flags.shards;
  report->results = std::move(run->results);
  internal::order_results(&report->results);
  if (plan.sizes.empty()) {
    report->knee = internal::find_knee(report->results, knee_policy(plan.policies));
  }
  return kExitOk;
}

int run_simulate(const SimulateFlags& flags, const CliIo& io) {
  Result<Plan> plan = make_plan(flags);
  if (!plan.is_ok()) return usage_error(io.err, "simulate", plan.status().message());
  if (flags.print_keys) return print_keys(flags, *plan, io);
  std::ofstream plot;
  if (!flags.plot.empty()) {
    plot.open(flags.plot, std::ios::binary | std::ios::trunc);
    if (!plot)
      return usage_error(io.err, "simulate", "cannot write the plot to '" + flags.plot + "'");
  }
  ProgressBar bar(
      flags.progress == "always" || (flags.progress == "auto" && stderr_is_terminal(io.err)),
      io.err);
  internal::SimReport report;
  if (const int code = simulate(flags, *plan, bar, io, &report); code != kExitOk) {
    bar.clear();
    return code;
  }
  bar.clear();
  if (flags.json) {
    io.out << internal::report_json(report).dump(2) << "\n";
  } else {
    io.out << internal::format_table(report);
  }
  if (plot.is_open()) {
    plot << internal::render_svg(report);
    plot.close();
    if (!plot) {
      io.err << "error: could not write the plot to '" << flags.plot << "'\n";
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace

Command add_simulate_command(CLI::App& root) {
  auto flags = std::make_shared<SimulateFlags>();
  CLI::App* app = root.add_subcommand(
      "simulate",
      "Replay an access trace through the memory tier's eviction policies and Belady's "
      "optimum, and print the hit rates at each cache size. Runs offline: no server.");
  app->add_option("--trace", flags->trace, "the trace file (plain, .gz or .xz; see Formats below)")
      ->required()
      ->option_text("FILE");
  app->add_option("--format", flags->format,
                  "auto (default: from the file name, then the first line), keys, csv, jsonl, "
                  "arc, penalties, lirs")
      ->option_text("FORMAT");
  app->add_option("--sizes", flags->sizes,
                  "cache sizes, comma-separated (1000,10k,64MiB), or auto (default): a ladder of "
                  "16 sizes up to every distinct key, and its knee")
      ->option_text("LIST|auto");
  app->add_option(
         "--policies", flags->policies,
         "comma-separated, from lru, tinylfu, cost, optimal (default: " + default_policies() + ")")
      ->option_text("LIST");
  app->add_option("--by", flags->by,
                  "what a size counts: entries (default) or bytes (charged as the memory tier "
                  "charges them)")
      ->check(CLI::IsMember({"entries", "bytes"}))
      ->option_text("entries|bytes");
  app->add_flag("--json", flags->json, "print one JSON document instead of the table");
  app->add_option("--plot", flags->plot,
                  "also write an SVG of hit rate (and planner-seconds saved) against size")
      ->option_text("FILE.svg");
  app->add_option("--shards", flags->shards,
                  "shards of each simulated memory tier (default 0: the tier's own rule, as a "
                  "server lane of that size)")
      ->check(CLI::Range(0, 1 << 16))
      ->option_text("N");
  app->add_option("--progress", flags->progress,
                  "progress bar on stderr: auto (when stderr is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->option_text("WHEN");
  app->add_flag("--print-keys", flags->print_keys,
                "print the decoded key stream (one decimal key a line) and exit, e.g. to replay "
                "the same keys through another cache");
  app->footer(kFooter);
  return {app, [flags](const CliIo& io) { return run_simulate(*flags, io); }};
}

}  // namespace plancache::cli
