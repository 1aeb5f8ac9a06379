// `plancache stats`: prints GET /v1/stats as indented JSON or as tables.
#include <memory>

#include "cli/commands/commands.h"
#include "cli/stats_table.h"

namespace plancache::cli {
namespace {

struct StatsFlags {
  ClientFlags client;
  std::string format = "json";
};

int run_stats(const StatsFlags& flags, const CliIo& io) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, "stats", client.status().message());
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
  add_client_flags(*app, &flags->client);
  app->footer("Example:\n  plancache stats --format table --server http://cache-host:8080");
  return {app, [flags](const CliIo& io) { return run_stats(*flags, io); }};
}

}  // namespace plancache::cli
