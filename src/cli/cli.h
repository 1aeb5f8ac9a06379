// The `plancache` command line: `serve` and the operator commands that talk
// to a running server (stats, get, put, invalidate, clear, checkpoint).
//
// run_cli() is the whole program minus the process: main.cc forwards argv,
// the standard streams and getenv to it, and tests call it directly to
// capture what it prints and the exit code.
//
// Exit codes (also printed by `plancache --help`):
//   0  success (and --help, --version)
//   1  runtime failure: the server answered an error, could not be reached,
//      timed out, `get` found no plan or `checkpoint restore` no checkpoint
//   2  bad usage or invalid input: unknown flag, missing or conflicting
//      arguments, a bad URL, a file that is not valid JSON, a bad config
//
// Thread-safety: run_cli() keeps no global state; concurrent calls are safe
// as long as they do not share streams.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plancache::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Where a run reads and writes. The streams are borrowed, not owned.
struct CliIo {
  std::istream& in;   // `put --plan-file -` reads the plan here
  std::ostream& out;  // results (JSON, keys, help text)
  std::ostream& err;  // diagnostics
  EnvLookup env;      // PLANCACHE_SERVER, PLANCACHE_TOKEN, serve's config vars
};

// The process environment, through getenv().
EnvLookup process_env();

// Runs the command line `args` (args[0] is the program name) and returns the
// exit code. Never throws.
int run_cli(const std::vector<std::string>& args, const CliIo& io);

}  // namespace plancache::cli
