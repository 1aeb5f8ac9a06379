// `plancache serve`: resolves the server configuration (flags, env, TOML;
// src/server/config.h) and runs the HTTP server until SIGTERM/SIGINT.
#include <memory>

#include "cli/commands/commands.h"
#include "server/config.h"
#include "server/server.h"

namespace plancache::cli {
namespace {

int run_serve(const server::ServeFlags& flags, const CliIo& io) {
  Result<server::ServerConfig> config = server::resolve_server_config(flags, io.env);
  if (!config.is_ok()) {
    io.err << "error: invalid configuration: " << config.status().message() << "\n";
    return kExitUsage;
  }
  io.out.flush();
  return server::run_server(*config);
}

}  // namespace

Command add_serve_command(CLI::App& root) {
  auto flags = std::make_shared<server::ServeFlags>();
  CLI::App* app = root.add_subcommand(
      "serve",
      "Run the plancache HTTP server (SPEC §3) until SIGTERM or SIGINT, which finish the "
      "requests in flight and exit 0.");
  server::register_serve_flags(*app, flags.get());
  app->footer(
      "Every flag can also be set in the TOML file given by --config (key = flag name in "
      "snake_case) and by the environment variable PLANCACHE_<FLAG_IN_UPPER_SNAKE>, e.g. "
      "PLANCACHE_PORT=9090; the older PLAN_CACHE_TTL, PLAN_CACHE_MAXSIZE, "
      "PLAN_CACHE_MIN_GEN_TIME, PLAN_CACHE_ENABLED, PLAN_CACHE_REDIS_ENABLED + REDIS_URL "
      "are honoured too, and so are the playbook planner's RUSTLE_CACHE_ENABLED "
      "(= --cache-enabled), RUSTLE_CACHE_DIR (= --data-dir), RUSTLE_REDIS_URL "
      "(= --redis-url) and RUSTLE_CACHE_SIZE_MB (= --l1-max-bytes, in MiB). Precedence: "
      "flag, PLANCACHE_* variable, PLAN_CACHE_* and RUSTLE_* variables, TOML file, default. "
      "A PLAN_CACHE_* and a RUSTLE_* variable that give one setting different values stop "
      "the start. An invalid value exits 2 naming where it came from.\n"
      "Listening on a non-loopback address needs --admin-token.\n\n"
      "Example:\n  plancache serve --port 8080 --data-dir '' --l1-max-entries 50000");
  return {app, [flags](const CliIo& io) { return run_serve(*flags, io); }};
}

}  // namespace plancache::cli
