// `plancache invalidate`: drops entries by tag, key prefix, glob pattern or
// age (POST /v1/invalidate); --namespace narrows any of them.
#include <memory>

#include "cli/commands/commands.h"

namespace plancache::cli {
namespace {

struct InvalidateFlags {
  ClientFlags client;
  std::string tag;
  std::string prefix;
  std::string pattern;
  int64_t older_than_s = 0;
  std::string ns;
};

constexpr const char* kSelectors[] = {"--tag", "--prefix", "--pattern", "--older-than-s"};

Result<nlohmann::json> build_body(const InvalidateFlags& flags, const CLI::App& app) {
  int given = 0;
  for (const char* name : kSelectors) given += app.count(name) > 0 ? 1 : 0;
  if (given != 1) {
    return Status::invalid_argument(
        std::string(given == 0 ? "missing selector" : "conflicting selectors") +
        ": give exactly one of --tag, --prefix, --pattern, --older-than-s "
        "(to drop a whole namespace use `plancache clear --namespace NS`)");
  }
  nlohmann::json body = nlohmann::json::object();
  if (app.count("--tag") > 0) {
    if (flags.tag.empty()) return Status::invalid_argument("--tag must not be empty");
    body["tag"] = flags.tag;
  } else if (app.count("--prefix") > 0) {
    if (flags.prefix.empty()) return Status::invalid_argument("--prefix must not be empty");
    body["prefix"] = flags.prefix;
  } else if (app.count("--pattern") > 0) {
    if (flags.pattern.empty()) return Status::invalid_argument("--pattern must not be empty");
    body["pattern"] = flags.pattern;
  } else {
    body["older_than_s"] = flags.older_than_s;
  }
  if (!flags.ns.empty()) body["namespace"] = flags.ns;
  return body;
}

int run_invalidate(const InvalidateFlags& flags, const CLI::App& app, const CliIo& io) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, "invalidate", client.status().message());
  Result<nlohmann::json> body = build_body(flags, app);
  if (!body.is_ok()) return usage_error(io.err, "invalidate", body.status().message());
  std::optional<Answer> answer = client->call(HttpMethod::kPost, "/v1/invalidate", *body, io.err);
  if (!answer) return kExitFailure;
  if (!answer->ok()) return report_server_error(*answer, io.err);
  const nlohmann::json& reply = answer->body;
  if (reply.is_object() && reply.contains("invalidated")) {
    const nlohmann::json& n = reply["invalidated"];
    io.out << "invalidated " << n.dump() << (n == 1 ? " entry" : " entries");
    for (const char* note : {"estimate", "approximate"}) {
      if (reply.contains(note) && reply[note] == true) io.out << " (an estimate)";
    }
    io.out << "\n";
  } else {
    io.out << answer->raw << "\n";
  }
  return kExitOk;
}

}  // namespace

Command add_invalidate_command(CLI::App& root) {
  auto flags = std::make_shared<InvalidateFlags>();
  CLI::App* app = root.add_subcommand(
      "invalidate",
      "Drop cached entries by tag, key prefix, glob pattern or age (exactly one of them).");
  app->add_option("--tag", flags->tag, "entries stored with this tag")->option_text("TAG");
  app->add_option("--prefix", flags->prefix, "user keys (of /v1/entries) starting with this")
      ->option_text("PREFIX");
  app->add_option("--pattern", flags->pattern, "user keys matching this glob, e.g. 'workflow:*'")
      ->option_text("GLOB");
  app->add_option("--older-than-s", flags->older_than_s, "entries created more than N seconds ago")
      ->check(CLI::NonNegativeNumber)
      ->option_text("N");
  app->add_option("--namespace", flags->ns, "only in this namespace")->option_text("NS");
  add_client_flags(*app, &flags->client);
  app->footer(
      "Examples:\n"
      "  plancache invalidate --tag web\n"
      "  plancache invalidate --pattern 'workflow:*' --namespace heavy\n"
      "  plancache invalidate --older-than-s 86400");
  return {app, [flags, app](const CliIo& io) { return run_invalidate(*flags, *app, io); }};
}

}  // namespace plancache::cli
