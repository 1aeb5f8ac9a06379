// Registration of each `plancache` subcommand on the root CLI11 app. Each
// function adds the subcommand, its flags and help text, and returns the
// Command whose run() executes it (see command_support.h).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_support.h"

namespace plancache::cli {

Command add_serve_command(CLI::App& root);       // commands/serve.cc
Command add_stats_command(CLI::App& root);       // commands/stats.cc
Command add_get_command(CLI::App& root);         // commands/get.cc
Command add_put_command(CLI::App& root);         // commands/put.cc
Command add_invalidate_command(CLI::App& root);  // commands/invalidate.cc
Command add_clear_command(CLI::App& root);       // commands/clear.cc
Command add_checkpoint_command(CLI::App& root);  // commands/checkpoint.cc
Command add_warm_command(CLI::App& root);        // commands/warm.cc
Command add_simulate_command(CLI::App& root);    // commands/simulate.cc
Command add_bench_command(CLI::App& root);       // commands/bench.cc
Command add_events_command(CLI::App& root);      // commands/events.cc

}  // namespace plancache::cli
