// `plancache events`: tails the server's event stream (GET /v1/events, an
// admin endpoint) and prints one line per event: puts, removals with their
// cause, planner runs.
//
// Human format (default), one line each, flushed as it comes:
//   14:03:07.123  put      default  3f9c2a1b4e5d…  142 B  812 ms  l1,l2
//   14:03:07.130  remove   default  3f9c2a1b4e5d…  replaced
//   14:03:08.012  planner  heavy    ab12cd34ef56…  finish ok 812 ms incremental
// --json: the event as one JSON object a line, {"event","id","data"}.
// Exit: 0 when the stream ends (the server stopped), on Ctrl-C or after
// --count events; 1 when the server cannot be reached, answers an error, or
// drops this subscriber for falling behind; 2 for bad flags.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <memory>
#include <sstream>

#include "cli/commands/commands.h"
#include "cli/event_stream.h"
#include "plancache/entry.h"

namespace plancache::cli {
namespace {

constexpr std::string_view kEventTypes[] = {"put", "remove", "planner"};
constexpr size_t kKeyChars = 12;  // of a plan key's hex digest

struct EventsFlags {
  ClientFlags client;
  std::vector<std::string> namespaces;
  std::vector<std::string> types;
  bool json = false;
  uint64_t count = 0;  // 0 = until the stream ends
};

// Splits "a,b" items of a repeatable flag into one list.
std::vector<std::string> split_items(const std::vector<std::string>& values) {
  std::vector<std::string> items;
  for (const std::string& value : values) {
    std::stringstream in(value);
    for (std::string item; std::getline(in, item, ',');) items.push_back(item);
    if (!value.empty() && value.back() == ',') items.emplace_back();
  }
  return items;
}

// "/v1/events?ns=a,b&types=put" from the flags; errors name the flag.
Result<std::string> events_path(const EventsFlags& flags) {
  std::string query;
  const std::vector<std::string> namespaces = split_items(flags.namespaces);
  for (const std::string& ns : namespaces) {
    if (Status s = validate_namespace_name(ns); !s.is_ok()) {
      return Status::invalid_argument("--ns '" + ns + "': " + s.message());
    }
    query += (query.empty() ? "ns=" : ",") + ns;
  }
  std::string types;
  for (const std::string& type : split_items(flags.types)) {
    if (std::find(std::begin(kEventTypes), std::end(kEventTypes), type) == std::end(kEventTypes)) {
      return Status::invalid_argument("--types: unknown event type '" + type +
                                      "' (put, remove, planner)");
    }
    types += (types.empty() ? "" : ",") + type;
  }
  if (!types.empty()) query += (query.empty() ? "types=" : "&types=") + types;
  return "/v1/events" + (query.empty() ? std::string() : "?" + query);
}

std::string clock_time(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[32];
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d", static_cast<int>(ms % 1000));
  return std::string(text) + millis;
}

std::string key_prefix(const nlohmann::json& data) {
  const std::string key = data.value("key", "");
  const size_t limit = data.value("kind", "") == "plan" ? kKeyChars : 3 * kKeyChars;
  return key.size() <= limit ? key : key.substr(0, limit) + "…";
}

// What follows the key on a human line.
std::string details(std::string_view type, const nlohmann::json& d) {
  std::ostringstream out;
  if (type == "put") {
    out << d.value("bytes", 0) << " B  " << d.value("compute_ms", 0) << " ms";
    std::string tiers;
    for (const auto& tier : d.value("tiers", nlohmann::json::array())) {
      tiers += (tiers.empty() ? "" : ",") + tier.get<std::string>();
    }
    if (!tiers.empty()) out << "  " << tiers;
  } else if (type == "remove") {
    out << d.value("cause", "?");
  } else if (type == "planner") {
    out << d.value("phase", "?");
    if (d.value("phase", "") == "finish") {
      out << " " << d.value("outcome", "?") << " " << d.value("ms", 0) << " ms";
      if (d.value("incremental", false)) out << " incremental";
      if (d.contains("error")) out << ": " << d.value("error", "");
    }
    if (d.value("background", false)) out << " (background)";
  }
  return out.str();
}

std::string human_line(const SseEvent& event, const nlohmann::json& d) {
  char head[96];
  std::snprintf(head, sizeof head, "%s  %-8s %-12s ", clock_time(d.value("t", int64_t{0})).c_str(),
                event.event.c_str(), d.value("ns", "?").c_str());
  return std::string(head) + " " + key_prefix(d) + "  " + details(event.event, d);
}

std::string json_line(const SseEvent& event, nlohmann::json data) {
  nlohmann::json line = {{"event", event.event}, {"data", std::move(data)}};
  uint64_t id = 0;
  const char* end = event.id.data() + event.id.size();
  if (!event.id.empty() && std::from_chars(event.id.data(), end, id).ptr == end) {
    line["id"] = id;
  } else if (!event.id.empty()) {
    line["id"] = event.id;
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run_events(const EventsFlags& flags, const CliIo& io) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, "events", client.status().message());
  Result<std::string> path = events_path(flags);
  if (!path.is_ok()) return usage_error(io.err, "events", path.status().message());
  EventStreamRequest request;
  request.url = client->url();
  request.path = *path;
  request.bearer_token = client->raw_request(HttpMethod::kGet, "", "").bearer_token;
  request.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.client.timeout_s * 1000));
  uint64_t printed = 0;
  bool dropped = false;
  auto on_event = [&](const SseEvent& event) {
    nlohmann::json data = nlohmann::json::parse(event.data, nullptr, /*allow_exceptions=*/false);
    if (!data.is_object()) data = {{"raw", event.data}};  // not ours: shown as it came
    if (event.event == "dropped") {
      dropped = true;
      io.err << "the server dropped this subscriber (" << data.value("reason", "?") << "; "
             << data.value("missed", 0) << " events missed after id " << data.value("last_id", 0)
             << ")\n";
      return false;
    }
    io.out << (flags.json ? json_line(event, std::move(data)) : human_line(event, data))
           << std::endl;
    return flags.count == 0 || ++printed < flags.count;
  };
  Result<StreamOutcome> outcome = read_event_stream(request, on_event);
  if (!outcome.is_ok()) {
    io.err << "cannot reach plancache server at " << client->url().to_string() << ": "
           << outcome.status().message() << "\n";
    return kExitFailure;
  }
  if (outcome->end == StreamEnd::kSignal) return kExitOk;  // Ctrl-C
  if (outcome->status != 200) {
    Answer answer{outcome->status, nlohmann::json::parse(outcome->body, nullptr, false),
                  outcome->body};
    return report_server_error(answer, io.err);
  }
  return dropped ? kExitFailure : kExitOk;
}

}  // namespace

Command add_events_command(CLI::App& root) {
  auto flags = std::make_shared<EventsFlags>();
  CLI::App* app = root.add_subcommand(
      "events",
      "Tail the server's event stream: puts, removals with their cause, planner runs (admin: "
      "needs the token).");
  app->add_option("--ns", flags->namespaces, "only these namespaces (repeat, or a,b)")
      ->option_text("NS");
  app->add_option("--types", flags->types, "only these events: put, remove, planner (a,b)")
      ->option_text("TYPES");
  app->add_flag("--json", flags->json, "one JSON object per event: {\"event\",\"id\",\"data\"}");
  app->add_option("--count", flags->count, "exit after this many events")
      ->check(CLI::PositiveNumber)
      ->option_text("N");
  add_client_flags(*app, &flags->client);
  app->footer(
      "The stream has no timeout (--timeout-s bounds connecting). Exit codes: 0 when the\n"
      "stream ends, on Ctrl-C or after --count events; 1 when the server cannot be reached,\n"
      "answers an error or drops this subscriber for falling behind; 2 for bad flags.\n\n"
      "Examples:\n"
      "  plancache events --token \"$ADMIN_TOKEN\"\n"
      "  plancache events --ns heavy --types remove,planner --json | jq .");
  return {app, [flags](const CliIo& io) { return run_events(*flags, io); }};
}

}  // namespace plancache::cli
