// `plancache put`: stores a plan read from a file or stdin (PUT /v1/plans).
#include <memory>

#include "cli/commands/commands.h"

namespace plancache::cli {
namespace {

struct PutFlags {
  ClientFlags client;
  std::string goal;
  std::string plan_file;
  std::string context;
  std::string ns;
  int64_t ttl_s = 0;
  uint32_t compute_ms = 0;
  std::vector<std::string> tags;
};

Result<nlohmann::json> build_body(const PutFlags& flags, const CLI::App& app, std::istream& in) {
  if (flags.goal.empty()) return Status::invalid_argument("--goal must not be empty");
  for (const std::string& tag : flags.tags) {
    if (tag.empty()) return Status::invalid_argument("--tag must not be empty");
  }
  nlohmann::json body = {{"goal", flags.goal}};
  if (!flags.context.empty()) {
    Result<nlohmann::json> context = parse_json_text(flags.context, "--context");
    if (!context.is_ok()) return context.status();
    body["context"] = std::move(context).value();
  }
  if (!flags.ns.empty()) body["namespace"] = flags.ns;
  if (app.count("--ttl-s") > 0) body["ttl_s"] = flags.ttl_s;
  if (app.count("--compute-ms") > 0) body["compute_ms"] = flags.compute_ms;
  if (!flags.tags.empty()) body["tags"] = flags.tags;
  Result<nlohmann::json> plan = read_json_file(flags.plan_file, in);
  if (!plan.is_ok()) return plan.status();
  body["plan"] = std::move(plan).value();
  return body;
}

int run_put(const PutFlags& flags, const CLI::App& app, const CliIo& io) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, "put", client.status().message());
  Result<nlohmann::json> body = build_body(flags, app, io.in);
  if (!body.is_ok()) return usage_error(io.err, "put", body.status().message());
  std::optional<Answer> answer = client->call(HttpMethod::kPut, "/v1/plans", *body, io.err);
  if (!answer) return kExitFailure;
  if (!answer->ok()) return report_server_error(*answer, io.err);
  const nlohmann::json& reply = answer->body;
  if (reply.is_object() && reply.contains("key") && reply["key"].is_string()) {
    io.out << reply["key"].get<std::string>() << "\n";
  } else {
    io.out << answer->raw << "\n";
  }
  // The server may accept a put without storing it (cache disabled, plan
  // cheaper than min_compute_ms): not an error, but say so.
  if (reply.is_object() && reply.value("stored", true) == false) {
    io.err << "note: the server did not store this plan: " << reply.value("reason", "no reason given")
           << "\n";
  }
  return kExitOk;
}

}  // namespace

Command add_put_command(CLI::App& root) {
  auto flags = std::make_shared<PutFlags>();
  CLI::App* app = root.add_subcommand(
      "put", "Store a plan (a JSON document) for a goal; prints the key it is stored under.");
  app->add_option("--goal", flags->goal, "the goal text")->required()->option_text("TEXT");
  app->add_option("--plan-file", flags->plan_file,
                  "file holding the plan as JSON; '-' reads standard input")
      ->required()
      ->option_text("FILE");
  app->add_option("--context", flags->context, "the context, any JSON value")->option_text("JSON");
  app->add_option("--namespace", flags->ns, "the namespace (lane); default: the server's default")
      ->option_text("NS");
  app->add_option("--ttl-s", flags->ttl_s,
                  "time to live in seconds; 0 = never expires (default: the namespace's TTL)")
      ->check(CLI::NonNegativeNumber)
      ->option_text("N");
  app->add_option("--compute-ms", flags->compute_ms, "how long the planner took, in ms")
      ->option_text("MS");
  app->add_option("--tag", flags->tags, "a tag for `invalidate --tag` (repeatable)")
      ->allow_extra_args(false)
      ->option_text("TAG");
  add_client_flags(*app, &flags->client);
  app->footer(
      "Examples:\n"
      "  plancache put --goal 'deploy the web tier' --plan-file plan.json --tag web\n"
      "  planner | plancache put --goal 'deploy' --plan-file - --ttl-s 3600");
  return {app, [flags, app](const CliIo& io) { return run_put(*flags, *app, io); }};
}

}  // namespace plancache::cli
