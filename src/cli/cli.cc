#include "cli/cli.h"

#include <exception>
#include <istream>
#include <ostream>

#include "cli/commands/commands.h"
#include "cli/version.h"
#include "server/config.h"

namespace plancache::cli {
namespace {

constexpr const char* kDescription =
    "plancache: a multi-tier cache for expensive plans.\n\n"
    "A planner (an LLM decomposing a goal into tasks, a playbook or workflow planner) takes\n"
    "seconds and money per plan. plancache keeps its plans, keyed by the normalised goal\n"
    "text, a JSON context and a namespace, in memory (and, with later tiers, on disk and in\n"
    "Redis), and answers repeated goals in microseconds. `plancache serve` runs the HTTP\n"
    "server; the other commands operate a running server.\n";

constexpr const char* kFooter =
    "Client commands talk to --server URL (env PLANCACHE_SERVER, default\n"
    "http://127.0.0.1:8080) and send --token (env PLANCACHE_TOKEN) as a bearer token.\n\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  runtime failure: the server answered an error (printed as 'error: CODE: MESSAGE'),\n"
    "     could not be reached or timed out, `get` found no plan or `checkpoint restore`\n"
    "     no checkpoint\n"
    "  2  bad usage or invalid input: unknown or missing flags, a bad URL, a plan file that\n"
    "     is not valid JSON, an invalid server configuration\n\n"
    "Run 'plancache COMMAND --help' for the flags of a command.";

// "error: <what>" plus where to find help: the selected subcommand's help
// when the error happened inside one.
std::string failure_message(const CLI::App* app, const CLI::Error& e) {
  std::string where = "plancache";
  for (const CLI::App* sub : app->get_subcommands()) where += " " + sub->get_name();
  return "error: " + std::string(e.what()) + "\nRun '" + where +
         " --help' for more information.\n";
}

// CLI11 answers an unknown command with "A subcommand is required"; name it
// instead. Only when the command comes first: `plancache --bogus` is left to
// CLI11, which names the flag.
Status check_command_name(const std::vector<std::string>& args,
                          const std::vector<Command>& commands) {
  if (args.size() < 2 || args[1].empty() || args[1][0] == '-') return Status::ok();
  std::string known;
  for (const Command& command : commands) {
    if (command.app->get_name() == args[1]) return Status::ok();
    known += " " + command.app->get_name();
  }
  return Status::invalid_argument("unknown command '" + args[1] + "' (commands:" + known + ")");
}

int parse_and_run(const std::vector<std::string>& args, const CliIo& io) {
  CLI::App app(kDescription, "plancache");
  app.set_version_flag("--version", "plancache " + std::string(kVersionString));
  app.require_subcommand(1);
  app.footer(kFooter);
  app.failure_message(failure_message);
  app.get_formatter()->column_width(34);

  const std::vector<Command> commands = {
      add_serve_command(app),      add_stats_command(app), add_get_command(app),
      add_put_command(app),        add_invalidate_command(app), add_clear_command(app),
      add_checkpoint_command(app), add_warm_command(app), add_simulate_command(app),
      add_bench_command(app),      add_events_command(app),
  };

  if (Status s = check_command_name(args, commands); !s.is_ok()) {
    io.err << "error: " << s.message() << "\nRun 'plancache --help' for more information.\n";
    return kExitUsage;
  }

  std::vector<const char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  if (argv.empty()) argv.push_back("plancache");
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    // --help / --version are "errors" with exit code 0; every other parse
    // error is bad usage (CLI11's own codes 100+ all become 2).
    const int code = app.exit(e, io.out, io.err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run(io);
  }
  io.err << "error: no command given\nRun 'plancache --help' for more information.\n";
  return kExitUsage;
}

}  // namespace

EnvLookup process_env() { return server::process_env(); }

int run_cli(const std::vector<std::string>& args, const CliIo& io) {
  try {
    return parse_and_run(args, io);
  } catch (const std::exception& e) {
    io.err << "error: internal: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace plancache::cli
