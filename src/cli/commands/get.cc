// `plancache get`: looks a plan up (POST /v1/plans/lookup) and prints it.
#include <memory>

#include "cli/commands/commands.h"

namespace plancache::cli {
namespace {

struct GetFlags {
  ClientFlags client;
  std::string goal;
  std::string context;  // JSON text; empty = no context
  std::string ns;
  bool compact = false;
};

int run_get(const GetFlags& flags, const CliIo& io) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, "get", client.status().message());
  if (flags.goal.empty()) return usage_error(io.err, "get", "--goal must not be empty");
  nlohmann::json body = {{"goal", flags.goal}};
  if (!flags.context.empty()) {
    Result<nlohmann::json> context = parse_json_text(flags.context, "--context");
    if (!context.is_ok()) return usage_error(io.err, "get", context.status().message());
    body["context"] = std::move(context).value();
  }
  if (!flags.ns.empty()) body["namespace"] = flags.ns;

  std::optional<Answer> answer = client->call(HttpMethod::kPost, "/v1/plans/lookup", body, io.err);
  if (!answer) return kExitFailure;
  if (answer->status == 404 && answer->body.is_object() && answer->body.contains("hit")) {
    io.err << "no plan cached for this goal";
    if (answer->body.contains("key")) io.err << " (key " << answer->body["key"].dump() << ")";
    io.err << "\n";
    return kExitFailure;
  }
  if (!answer->ok()) return report_server_error(*answer, io.err);
  if (!answer->body.is_object() || !answer->body.contains("plan")) {
    io.err << "error: the server's answer has no plan: " << answer->raw.substr(0, 200) << "\n";
    return kExitFailure;
  }
  io.out << answer->body["plan"].dump(flags.compact ? -1 : 2) << "\n";
  return kExitOk;
}

}  // namespace

Command add_get_command(CLI::App& root) {
  auto flags = std::make_shared<GetFlags>();
  CLI::App* app = root.add_subcommand(
      "get", "Print the cached plan of a goal (exit 1 and a message when there is none).");
  app->add_option("--goal", flags->goal, "the goal text (normalised by the server)")
      ->required()
      ->option_text("TEXT");
  app->add_option("--context", flags->context, "the context, any JSON value (e.g. '{\"repo\":\"x\"}')")
      ->option_text("JSON");
  app->add_option("--namespace", flags->ns, "the namespace (lane); default: the server's default")
      ->option_text("NS");
  app->add_flag("--compact", flags->compact, "print the plan on one line instead of indented");
  add_client_flags(*app, &flags->client);
  app->footer("Example:\n  plancache get --goal 'deploy the web tier' --context '{\"env\":\"prod\"}'");
  return {app, [flags](const CliIo& io) { return run_get(*flags, io); }};
}

}  // namespace plancache::cli
