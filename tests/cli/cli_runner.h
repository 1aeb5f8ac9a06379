// Test helper: runs the plancache CLI in-process and captures what it prints.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"

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

}  // namespace plancache::cli::test_support
