// Test helper: runs the plancache CLI in-process and captures what it prints.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "plancache/clock.h"
#include "server/config.h"

namespace plancache::cli::test_support {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `plancache <args...>` with `stdin_text` as standard input and `env`
// as the whole environment (nothing leaks in from the test process).
inline CliRun run_plancache(std::vector<std::string> args, const std::string& stdin_text = "",
                            std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "plancache");
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  const CliIo io{in, out, err, [env](std::string_view name) -> std::optional<std::string> {
                   auto it = env.find(std::string(name));
                   if (it == env.end()) return std::nullopt;
                   return it->second;
                 }};
  CliRun run;
  run.code = run_cli(args, io);
  run.out = out.str();
  run.err = err.str();
  return run;
}

// The configuration of the in-process servers the CLI tests talk to:
// 127.0.0.1, an ephemeral port, memory only, one I/O thread, quiet.
inline server::ServerConfig loopback_server_config(std::shared_ptr<Clock> clock) {
  server::ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.data_dir = "";
  config.io_threads = 1;
  config.log_level = "warn";
  config.clock = std::move(clock);
  return config;
}

}  // namespace plancache::cli::test_support
