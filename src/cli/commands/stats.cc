// `plancache stats`: prints GET /v1/stats as indented JSON or as tables.
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands/commands.h"
#include "cli/stats_table.h"

namespace plancache::cli {
namespace {

struct StatsFlags {
  ClientFlags client;
  std::string format = "json";
  bool recommend = false;
  std::optional<double> target;
};

std::string with_commas(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string pct(const nlohmann::json& share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", share.get<double>() * 100);
  return buf;
}

std::string seconds(const nlohmann::json& s) {
  return with_commas(static_cast<uint64_t>(std::llround(s.get<double>())));
}

// GET /v1/advice as text: one block per lane, each figure with its basis.
void render_advice(const nlohmann::json& doc, std::ostream& out) {
  for (const auto& lane : doc["lanes"]) {
    out << "lane " << lane["namespace"].get<std::string>() << " ("
        << with_commas(lane["sampled_requests"]) << " sampled requests of "
        << with_commas(lane["sampled_keys"]) << " keys over " << seconds(lane["span_s"])
        << " s)\n";
    const auto& size = lane["size"];
    out << "  L1 size   max_entries " << with_commas(size["max_entries"]) << ", max_bytes "
        << with_commas(size["max_bytes"]) << " -> hit rate " << pct(size["hit_rate"]) << "\n"
        << "            " << size["basis"].get<std::string>() << "\n";
    const auto& policy = lane["policy"];
    out << "  eviction  " << policy["eviction"].get<std::string>() << ", saving "
        << seconds(lane["planner_seconds_saved_per_day"]) << " planner-seconds a day (";
    bool first = true;
    for (const auto& [name, saved] : policy["planner_seconds_saved_per_day"].items()) {
      out << (first ? "" : ", ") << name << " " << seconds(saved);
      first = false;
    }
    out << ")\n            " << policy["basis"].get<std::string>() << "\n";
    const auto& ttl = lane["ttl"];
    out << "  TTL       "
        << (ttl["ttl_s"].is_null() ? std::string("no advice") : seconds(ttl["ttl_s"]) + " s")
        << "\n            " << ttl["basis"].get<std::string>() << "\n";
    if (lane.contains("now")) {
      const auto& now = lane["now"];
      out << "  now       max_entries " << with_commas(now["max_entries"]) << " -> hit rate "
          << pct(now["hit_rate"]) << ", " << seconds(now["planner_seconds_saved_per_day"])
          << " planner-seconds a day\n";
    }
  }
  if (doc["lanes"].empty()) out << "no lookups in the access log yet\n";
}

int run_recommend(const StatsFlags& flags, Client& client, const CliIo& io) {
  std::string target = "/v1/advice";
  if (flags.target) target += "?target=" + std::to_string(*flags.target);
  std::optional<Answer> answer = client.call(HttpMethod::kGet, target, nullptr, io.err);
  if (!answer) return kExitFailure;
  if (!answer->ok()) return report_server_error(*answer, io.err);
  if (flags.format == "table") {
    render_advice(answer->body, io.out);
  } else {
    io.out << answer->body.dump(2) << "\n";
  }
  return kExitOk;
}

int run_stats(const StatsFlags& flags, const CliIo& io) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, "stats", client.status().message());
  if (flags.target && !flags.recommend) {
    return usage_error(io.err, "stats", "--target goes with --recommend");
  }
  if (flags.recommend) return run_recommend(flags, *client, io);
  std::optional<Answer> answer = client->call(HttpMethod::kGet, "/v1/stats", nullptr, io.err);
  if (!answer) return kExitFailure;
  if (!answer->ok()) return report_server_error(*answer, io.err);
  if (answer->body.is_null()) {
    io.err << "error: the server's stats are not JSON: " << answer->raw.substr(0, 200) << "\n";
    return kExitFailure;
  }
  if (flags.format == "table") {
    render_stats_table(answer->body, io.out);
  } else {
    io.out << answer->body.dump(2) << "\n";
  }
  return kExitOk;
}

}  // namespace

Command add_stats_command(CLI::App& root) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* app = root.add_subcommand(
      "stats", "Show the server's statistics: hits, misses, sizes, per tier and per namespace.");
  app->add_option("--format", flags->format, "json (default) or table")
      ->check(CLI::IsMember({"json", "table"}))
      ->option_text("json|table");
  app->add_flag("--recommend", flags->recommend,
                "Advice per lane from the server's access log (GET /v1/advice; the server needs "
                "--access-log): the L1 size, eviction policy and TTL, each with the figure it "
                "rests on and the planner-seconds a day it saves");
  app->add_option("--target", flags->target,
                  "With --recommend: size L1 for this hit rate (0..1) instead of the knee")
      ->check(CLI::Range(0.0, 1.0).description(""))
      ->option_text("RATE");
  add_client_flags(*app, &flags->client);
  app->footer(
      "Examples:\n  plancache stats --format table --server http://cache-host:8080\n"
      "  plancache stats --recommend --format table --target 0.8");
  return {app, [flags](const CliIo& io) { return run_stats(*flags, io); }};
}

}  // namespace plancache::cli
