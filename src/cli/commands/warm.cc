// `plancache warm --file scenarios.jsonl`: asks the server for the plan of
// every scenario of a JSON-lines file through the read-through endpoint
// (POST /v1/plans), so that the plans are cached before users ask for them.
//
// Design:
// - The whole file is read and validated before anything is sent: a line
//   that is not a JSON object with a non-empty string "goal" (and optional
//   "context", string "namespace", nothing else) is reported with its line
//   number and the command exits 2 having sent nothing. A half-sent file is
//   worse than none: the operator fixes the file and runs it again.
// - N worker threads (--concurrency, 1..64) share an atomic cursor into the
//   scenario list; each has its own keep-alive connection (Client::connect).
//   Every scenario's outcome is written by exactly one worker into its own
//   slot and read by the main thread only after the workers are joined; the
//   progress counters are relaxed atomics (a bar may lag by a request, the
//   summary never does).
// - Only the main thread writes to the output streams: while the workers run
//   it redraws the progress bar (stderr, when stderr is a terminal) every
//   kRedraw, then prints the summary.
// - An answer is a hit when "cached" is true (a fresh or stale cached plan),
//   computed when false (the server ran the planner, or joined a run already
//   in flight); anything else — a 4xx/5xx, a transport failure, an answer
//   without a boolean "cached" — is a failure of that line.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands/commands.h"
#include "cli/commands/warm_predict.h"

namespace plancache::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxConcurrency = 64;
constexpr size_t kMaxReportedLines = 10;  // invalid or failed lines printed
constexpr std::chrono::milliseconds kRedraw{200};
constexpr int kBarWidth = 24;
// Per request: a miss waits for the planner, whose own timeout is 120 s by
// default on the server.
constexpr double kDefaultTimeoutS = 130;

struct WarmFlags {
  ClientFlags client;
  std::string file;
  int concurrency = 4;
  std::string progress = "auto";
  bool predict = false;  // --predict: one predictor pass instead of a file
  bool dry_run = false;
  std::string ns;
};

struct Scenario {
  size_t line = 0;      // 1-based line number in the file
  nlohmann::json body;  // {"goal","context"?,"namespace"?}
};

enum class Kind { kHit, kComputed, kFailed };

struct Outcome {
  Kind kind = Kind::kFailed;
  std::string message;  // why it failed
};

// --- reading and validating the file ---------------------------------------

// nlohmann's "parse error at line 1, column C" names the line of a one-line
// text; the caller already names the file's line.
std::string json_error(std::string_view line) {
  Result<nlohmann::json> parsed = parse_json_text(line, "it");
  std::string message = parsed.status().message();
  const std::string_view kAtLine1 = "at line 1, column ";
  if (const size_t at = message.find(kAtLine1); at != std::string::npos) {
    message.replace(at, kAtLine1.size(), "at column ");
  }
  return message;
}

// The scenario of one line, or the problem with it.
Result<nlohmann::json> parse_scenario(std::string_view line) {
  nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Status::invalid_argument(json_error(line));
  if (!value.is_object()) {
    return Status::invalid_argument(std::string("expected a JSON object {\"goal\": ...}, got ") +
                                    (value.is_array() ? "an array" : "a JSON ") +
                                    (value.is_array() ? "" : value.type_name()));
  }
  for (const auto& [name, field] : value.items()) {
    if (name != "goal" && name != "context" && name != "namespace") {
      return Status::invalid_argument("unknown field \"" + name +
                                      "\" (a scenario has \"goal\", \"context\", \"namespace\")");
    }
  }
  const auto goal = value.find("goal");
  if (goal == value.end() || !goal->is_string() || goal->get_ref<const std::string&>().empty()) {
    return Status::invalid_argument("\"goal\" must be a non-empty string");
  }
  const auto ns = value.find("namespace");
  if (ns != value.end() && !ns->is_string()) {
    return Status::invalid_argument("\"namespace\" must be a string");
  }
  return value;
}

bool skipped(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

// Reads every scenario of `path` ("-" = `in`). Errors: kInvalidArgument
// naming the file, or listing the invalid lines (at most kMaxReportedLines).
Result<std::vector<Scenario>> read_scenarios(const std::string& path, std::istream& in) {
  std::ifstream file;
  std::istream* source = &in;
  const std::string name = path == "-" ? "standard input" : "scenarios file '" + path + "'";
  if (path != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return Status::invalid_argument("cannot read " + name + ": it is a directory");
    }
    file.open(path, std::ios::binary);
    if (!file) return Status::invalid_argument("cannot open " + name + ": " + std::strerror(errno));
    source = &file;
  }
  std::vector<Scenario> scenarios;
  std::vector<std::string> problems;
  size_t invalid = 0;
  std::string line;
  for (size_t number = 1; std::getline(*source, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
    if (skipped(line)) continue;
    Result<nlohmann::json> scenario = parse_scenario(line);
    if (scenario.is_ok()) {
      scenarios.push_back({number, std::move(scenario).value()});
    } else if (++invalid <= kMaxReportedLines) {
      problems.push_back("  line " + std::to_string(number) + ": " + scenario.status().message());
    }
  }
  if (source->bad()) return Status::invalid_argument("cannot read " + name);
  if (invalid == 0) return scenarios;
  std::string message = name + " has " + std::to_string(invalid) + " invalid line" +
                        (invalid == 1 ? "" : "s") + "; nothing was sent:";
  for (const std::string& problem : problems) message += "\n" + problem;
  if (invalid > problems.size()) {
    message += "\n  ... and " + std::to_string(invalid - problems.size()) + " more";
  }
  return Status::invalid_argument(message);
}

// --- sending ------------------------------------------------------------------

// What one answer (or its absence) means for the line it was sent for.
Outcome classify(const std::optional<Answer>& answer, const std::string& transport_error) {
  if (!answer) {
    std::string message = transport_error;
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return {Kind::kFailed, message};
  }
  if (!answer->ok()) {
    std::ostringstream printed;  // "error: <code>: <message>\n", as every command prints it
    report_server_error(*answer, printed);
    std::string message = printed.str();
    if (message.rfind("error: ", 0) == 0) message.erase(0, 7);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return {Kind::kFailed, message};
  }
  const nlohmann::json& body = answer->body;
  const auto cached = body.is_object() ? body.find("cached") : body.end();
  if (!body.is_object() || cached == body.end() || !cached->is_boolean()) {
    return {Kind::kFailed, "unexpected answer (HTTP " + std::to_string(answer->status) +
                               " without a boolean \"cached\"): " + answer->raw.substr(0, 200)};
  }
  return {cached->get<bool>() ? Kind::kHit : Kind::kComputed, ""};
}

// State shared by the workers and the main thread.
struct Progress {
  std::atomic<size_t> next{0};  // index of the next scenario to send
  std::atomic<size_t> hits{0};
  std::atomic<size_t> computed{0};
  std::atomic<size_t> failed{0};
  std::mutex mu;  // guards workers_done (and pairs with cv)
  std::condition_variable cv;
  int workers_done = 0;

  size_t done() const { return hits + computed + failed; }
};

void count(Progress& progress, Kind kind) {
  switch (kind) {
    case Kind::kHit: progress.hits.fetch_add(1, std::memory_order_relaxed); break;
    case Kind::kComputed: progress.computed.fetch_add(1, std::memory_order_relaxed); break;
    case Kind::kFailed: progress.failed.fetch_add(1, std::memory_order_relaxed); break;
  }
}

// One worker: sends scenarios until none is left, on its own connection.
void work(const Client& client, const std::vector<Scenario>& scenarios,
          std::vector<Outcome>& outcomes, Progress& progress) {
  HttpConnection connection = client.connect();
  for (;;) {
    const size_t i = progress.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= scenarios.size()) break;
    Outcome outcome;
    try {
      std::ostringstream transport_error;
      std::optional<Answer> answer =
          client.call(connection, HttpMethod::kPost, "/v1/plans", scenarios[i].body,
                      transport_error);
      outcome = classify(answer, transport_error.str());
    } catch (const std::exception& e) {  // nothing may escape a thread
      outcome = {Kind::kFailed, std::string("internal: ") + e.what()};
    }
    count(progress, outcome.kind);
    outcomes[i] = std::move(outcome);
  }
  const std::lock_guard<std::mutex> lock(progress.mu);
  ++progress.workers_done;
  progress.cv.notify_all();
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "\r[#########---------]   45/100  45%  hits 3  computed 40  failed 2  1.2 s"
void draw_bar(std::ostream& err, const Progress& progress, size_t total,
              Clock::time_point start) {
  const size_t done = std::min(progress.done(), total);
  const size_t percent = total == 0 ? 100 : done * 100 / total;
  const int filled = total == 0 ? kBarWidth : static_cast<int>(done * kBarWidth / total);
  char line[160];
  std::snprintf(line, sizeof line, "\r[%s%s] %6zu/%zu %3zu%%  hits %zu  computed %zu  failed %zu  %.1f s\x1b[K",
                std::string(static_cast<size_t>(filled), '#').c_str(),
                std::string(static_cast<size_t>(kBarWidth - filled), '-').c_str(), done, total,
                percent, progress.hits.load(), progress.computed.load(), progress.failed.load(),
                seconds_since(start));
  err << line << std::flush;
}

// Runs the workers; returns every scenario's outcome, in file order.
std::vector<Outcome> send_all(const Client& client, const std::vector<Scenario>& scenarios,
                              int concurrency, bool show_progress, std::ostream& err) {
  std::vector<Outcome> outcomes(scenarios.size());
  Progress progress;
  const Clock::time_point start = Clock::now();
  const int workers =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(concurrency), scenarios.size()));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(workers));
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back(work, std::cref(client), std::cref(scenarios), std::ref(outcomes),
                         std::ref(progress));
  }
  if (show_progress) {
    std::unique_lock<std::mutex> lock(progress.mu);
    while (!progress.cv.wait_for(lock, kRedraw, [&] { return progress.workers_done == workers; })) {
      draw_bar(err, progress, scenarios.size(), start);
    }
    lock.unlock();
    draw_bar(err, progress, scenarios.size(), start);
    err << "\r\x1b[K" << std::flush;  // the summary replaces the bar
  }
  for (std::thread& thread : threads) thread.join();
  return outcomes;
}

// --- the command ------------------------------------------------------------

int report(const std::vector<Scenario>& scenarios, const std::vector<Outcome>& outcomes,
           double elapsed_s, const CliIo& io) {
  size_t hits = 0;
  size_t computed = 0;
  std::vector<size_t> failed;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].kind == Kind::kHit) ++hits;
    if (outcomes[i].kind == Kind::kComputed) ++computed;
    if (outcomes[i].kind == Kind::kFailed) failed.push_back(i);
  }
  char summary[160];
  std::snprintf(summary, sizeof summary,
                "warmed %zu scenarios: %zu hits, %zu computed, %zu failed (%.1f s)\n",
                scenarios.size(), hits, computed, failed.size(), elapsed_s);
  io.out << summary << std::flush;
  for (size_t n = 0; n < failed.size() && n < kMaxReportedLines; ++n) {
    io.err << "line " << scenarios[failed[n]].line << ": " << outcomes[failed[n]].message << "\n";
  }
  if (failed.size() > kMaxReportedLines) {
    io.err << "... and " << failed.size() - kMaxReportedLines << " more failed lines\n";
  }
  return failed.empty() ? kExitOk : kExitFailure;
}

int run_warm(const WarmFlags& flags, const CliIo& io) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, "warm", client.status().message());
  if (flags.predict) return run_warm_predict(*client, flags.dry_run, flags.ns, io);
  if (flags.file.empty()) {
    return usage_error(io.err, "warm", "--file is required (or --predict: one predictor pass)");
  }
  Result<std::vector<Scenario>> scenarios = read_scenarios(flags.file, io.in);
  if (!scenarios.is_ok()) return usage_error(io.err, "warm", scenarios.status().message());
  const bool show_progress =
      flags.progress == "always" || (flags.progress == "auto" && stderr_is_terminal(io.err));
  const Clock::time_point start = Clock::now();
  const std::vector<Outcome> outcomes =
      send_all(*client, *scenarios, flags.concurrency, show_progress, io.err);
  return report(*scenarios, outcomes, seconds_since(start), io);
}

constexpr const char* kFooter =
    "File format (JSON lines): one scenario per line, a JSON object with\n"
    "  \"goal\"       the goal text (required; a non-empty string)\n"
    "  \"context\"    any JSON value (optional)\n"
    "  \"namespace\"  the namespace (lane) (optional; default: the server's default)\n"
    "Blank lines and lines starting with '#' are skipped. The whole file is checked\n"
    "before anything is sent: invalid lines are reported with their numbers, nothing\n"
    "is sent, and the exit code is 2.\n\n"
    "Example scenarios.jsonl:\n"
    "  # nightly deploys\n"
    "  {\"goal\": \"deploy the web tier\", \"context\": {\"env\": \"prod\", \"rev\": 7}}\n"
    "  {\"goal\": \"rotate the TLS certificates\", \"namespace\": \"heavy\"}\n\n"
    "Each scenario is sent as POST /v1/plans (read-through): a plan the server had\n"
    "cached is a hit, one it had its planner make is computed. With stderr on a\n"
    "terminal a progress bar is drawn there. Then, for example:\n"
    "  warmed 2 scenarios: 1 hits, 0 computed, 1 failed (3.2 s)\n"
    "  line 3: bad_gateway: planner command exited with status 1\n"
    "(failed lines on stderr, at most 10).\n\n"
    "Exit codes: 0 every scenario warmed, 1 any scenario failed, 2 bad usage or an\n"
    "invalid file.\n\n"
    "--predict asks the server for one pass of its predictor instead (lanes with\n"
    "predict = true): recurring plans about to expire and missing members of context\n"
    "families, each with its confidence and reason; --dry-run only lists them.\n\n"
    "Examples:\n"
    "  plancache warm --file scenarios.jsonl\n"
    "  generate-scenarios | plancache warm --file - --concurrency 8\n"
    "  plancache warm --predict --dry-run";

}  // namespace

Command add_warm_command(CLI::App& root) {
  auto flags = std::make_shared<WarmFlags>();
  flags->client.timeout_s = kDefaultTimeoutS;
  CLI::App* app = root.add_subcommand(
      "warm", "Compute (or confirm) the plan of every scenario of a JSON-lines file through "
              "the server, so it is cached before anyone asks.");
  CLI::Option* file =
      app->add_option("--file", flags->file, "the scenarios, one JSON object a line; '-' reads stdin")
          ->option_text("FILE");
  CLI::Option* predict = app->add_flag(
      "--predict", flags->predict,
      "instead of a file: one pass of the server's predictor (lanes with predict = true), "
      "printing what it started and why (POST /v1/predict)");
  file->excludes(predict);
  app->add_flag("--dry-run", flags->dry_run,
                "with --predict: start nothing, print what a pass would compute and why")
      ->needs(predict);
  app->add_option("--namespace", flags->ns, "with --predict: only this lane")
      ->needs(predict)
      ->option_text("NS");
  app->add_option("--concurrency", flags->concurrency,
                  "requests in flight at once, each worker on its own keep-alive connection "
                  "(1..64, default 4)")
      ->check(CLI::Range(1, kMaxConcurrency))
      ->option_text("N");
  app->add_option("--progress", flags->progress,
                  "progress bar on stderr: auto (when stderr is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->option_text("WHEN");
  add_client_flags(*app, &flags->client);
  app->get_option("--timeout-s")
      ->description("give up on one request after this many seconds (default 130: a miss "
                    "waits for the planner)");
  app->footer(kFooter);
  return {app, [flags](const CliIo& io) { return run_warm(*flags, io); }};
}

}  // namespace plancache::cli
