// `plancache clear`: drops every entry, or every entry of one namespace
// (POST /v1/clear; an admin endpoint: needs --token when the server has one).
#include <memory>

#include "cli/commands/commands.h"

namespace plancache::cli {
namespace {

struct ClearFlags {
  ClientFlags client;
  std::string ns;
};

int run_clear(const ClearFlags& flags, const CliIo& io) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, "clear", client.status().message());
  nlohmann::json body = nlohmann::json::object();
  if (!flags.ns.empty()) body["namespace"] = flags.ns;
  std::optional<Answer> answer = client->call(HttpMethod::kPost, "/v1/clear", body, io.err);
  if (!answer) return kExitFailure;
  if (!answer->ok()) return report_server_error(*answer, io.err);
  io.out << "cleared";
  if (answer->body.is_object() && answer->body.contains("cleared")) {
    const nlohmann::json& n = answer->body["cleared"];
    io.out << " " << n.dump() << (n == 1 ? " entry" : " entries");
  }
  io.out << (flags.ns.empty() ? " (every namespace)" : " from namespace " + flags.ns) << "\n";
  return kExitOk;
}

}  // namespace

Command add_clear_command(CLI::App& root) {
  auto flags = std::make_shared<ClearFlags>();
  CLI::App* app = root.add_subcommand(
      "clear", "Drop every cached entry, or those of one namespace (admin: needs the token).");
  app->add_option("--namespace", flags->ns, "only this namespace")->option_text("NS");
  add_client_flags(*app, &flags->client);
  app->footer("Example:\n  PLANCACHE_TOKEN=secret plancache clear --namespace docs");
  return {app, [flags](const CliIo& io) { return run_clear(*flags, io); }};
}

}  // namespace plancache::cli
