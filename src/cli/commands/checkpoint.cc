// `plancache checkpoint save|restore|list|cleanup`: snapshots of a
// workflow's state (any JSON document) kept by the server in the persistent
// `checkpoints` namespace -- the lane design's cache_checkpoint,
// restore_checkpoint and cleanup_old_checkpoints (SPEC §1) over the HTTP API:
//   save     PUT  /v1/entries/checkpoints/{id}   (no ttl_s: the namespace's
//                                                 TTL, "never" in the preset)
//   restore  GET  /v1/entries/checkpoints/{id}
//   list     GET  /v1/entries/checkpoints?limit=10000
//   cleanup  POST /v1/invalidate {"namespace":"checkpoints","older_than_s":N*86400}
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands/commands.h"

namespace plancache::cli {
namespace {

constexpr std::string_view kNamespacePath = "/v1/entries/checkpoints";
constexpr size_t kMaxIdBytes = 512;         // the server's user-key limit
constexpr int64_t kListLimit = 10'000;      // the server's largest page
constexpr int64_t kMaxAgeDays = 1'000'000;  // keeps N * 86400 s far from overflow
constexpr int64_t kDayS = 86'400;

struct CheckpointFlags {
  ClientFlags client;
  std::string id;
  std::string file;
  std::string output;
  bool json = false;
  int64_t max_age_days = 0;
};

// --- helpers -------------------------------------------------------------------

Status validate_id(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return Status::invalid_argument("--id must be 1 to 512 bytes long");
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::invalid_argument("--id must not contain control characters");
    }
  }
  return Status::ok();
}

// The id as one percent-encoded path segment (RFC 3986 unreserved bytes kept).
std::string id_path(const std::string& id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(kNamespacePath);
  out += '/';
  for (char c : id) {
    const auto b = static_cast<unsigned char>(c);
    if (std::isalnum(b) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += c;
    } else {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    }
  }
  return out;
}

// The checkpoint document of `path` ("-" = `in`), checked to be JSON.
Result<nlohmann::json> read_checkpoint_file(const std::string& path, std::istream& in) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return Status::invalid_argument("cannot read the checkpoint from standard input");
    return parse_json_text(text, "the checkpoint read from standard input");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::invalid_argument("cannot open checkpoint file '" + path +
                                    "': " + std::strerror(errno));
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) return Status::invalid_argument("cannot read checkpoint file '" + path + "'");
  return parse_json_text(buffer.str(), "checkpoint file '" + path + "'");
}

// "2026-09-21T10:00:00Z".
std::string iso_time(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) return "?";
  char text[32];
  const size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return n == 0 ? "?" : std::string(text, n);
}

// "42s", "5m 3s", "2h 10m", "3d 4h".
std::string human_age(int64_t ms) {
  const int64_t s = std::max<int64_t>(ms, 0) / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  if (s < kDayS) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / kDayS) + "d " + std::to_string(s % kDayS / 3600) + "h";
}

// "812 B", "4.0 KiB", "1.5 MiB".
std::string human_bytes(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  size_t unit = 0;
  for (v /= 1024; v >= 1024 && unit + 1 < std::size(units); v /= 1024) ++unit;
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", v, units[unit]);
  return text;
}

void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

// Runs `fn(client)` after resolving the client flags; a bad flag is exit 2.
template <typename Fn>
int with_client(const CheckpointFlags& flags, const CliIo& io, std::string_view cmd, Fn&& fn) {
  Result<Client> client = Client::create(flags.client, io.env);
  if (!client.is_ok()) return usage_error(io.err, cmd, client.status().message());
  return fn(*client);
}

// --- the four subcommands ------------------------------------------------------------

int run_save(const CheckpointFlags& flags, const CliIo& io) {
  constexpr std::string_view kCmd = "checkpoint save";
  if (Status s = validate_id(flags.id); !s.is_ok()) return usage_error(io.err, kCmd, s.message());
  Result<nlohmann::json> doc = read_checkpoint_file(flags.file, io.in);
  if (!doc.is_ok()) return usage_error(io.err, kCmd, doc.status().message());
  return with_client(flags, io, kCmd, [&](const Client& client) {
    std::optional<Answer> answer = client.call(HttpMethod::kPut, id_path(flags.id), *doc, io.err);
    if (!answer) return kExitFailure;
    if (!answer->ok()) return report_server_error(*answer, io.err);
    io.out << "saved checkpoint '" << flags.id << "' (" << human_bytes(doc->dump().size()) << ")\n";
    return kExitOk;
  });
}

int run_restore(const CheckpointFlags& flags, const CliIo& io) {
  constexpr std::string_view kCmd = "checkpoint restore";
  if (Status s = validate_id(flags.id); !s.is_ok()) return usage_error(io.err, kCmd, s.message());
  return with_client(flags, io, kCmd, [&](const Client& client) {
    std::optional<Answer> answer =
        client.call(HttpMethod::kGet, id_path(flags.id), nullptr, io.err);
    if (!answer) return kExitFailure;
    if (answer->status == 404) {
      io.err << "no checkpoint '" << flags.id << "' (run 'plancache checkpoint list')\n";
      return kExitFailure;
    }
    if (!answer->ok()) return report_server_error(*answer, io.err);
    if (flags.output.empty()) {
      io.out << answer->raw << (answer->raw.ends_with('\n') ? "" : "\n");
      return kExitOk;
    }
    std::ofstream file(flags.output, std::ios::binary | std::ios::trunc);
    if (file) file << answer->raw;
    if (!file || !file.flush()) {
      return usage_error(
          io.err, kCmd, "cannot write output file '" + flags.output + "': " + std::strerror(errno));
    }
    io.out << "restored checkpoint '" << flags.id << "' to " << flags.output << " ("
           << human_bytes(answer->raw.size()) << ")\n";
    return kExitOk;
  });
}

// An integer member of a JSON object; 0 when absent or of another type.
int64_t int_field(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

int print_list(const Answer& answer, const CliIo& io) {
  const nlohmann::json& doc = answer.body;
  if (!doc.is_object() || !doc.contains("entries") || !doc["entries"].is_array()) {
    io.err << "error: the server's listing is not the expected JSON: " << answer.raw.substr(0, 200)
           << "\n";
    return kExitFailure;
  }
  // Ages on the server's clock when it says what time it is.
  int64_t now = int_field(doc, "now_ms");
  if (now == 0) {
    now = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  }
  if (doc["entries"].empty()) {
    io.out << "no checkpoints\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "CREATED", "AGE", "SIZE"}};
  for (const nlohmann::json& e : doc["entries"]) {
    if (!e.is_object()) continue;
    const auto key = e.find("key");
    const int64_t created = int_field(e, "created_ms");
    rows.push_back(
        {key != e.end() && key->is_string() ? key->get<std::string>() : "?", iso_time(created),
         human_age(now - created),
         human_bytes(static_cast<uint64_t>(std::max<int64_t>(int_field(e, "bytes"), 0)))});
  }
  print_table(rows, io.out);
  if (const auto t = doc.find("truncated"); t != doc.end() && *t == true) {
    io.out << "(only the first " << kListLimit << " checkpoints are shown)\n";
  }
  return kExitOk;
}

int run_list(const CheckpointFlags& flags, const CliIo& io) {
  return with_client(flags, io, "checkpoint list", [&](const Client& client) {
    const std::string path = std::string(kNamespacePath) + "?limit=" + std::to_string(kListLimit);
    std::optional<Answer> answer = client.call(HttpMethod::kGet, path, nullptr, io.err);
    if (!answer) return kExitFailure;
    if (!answer->ok()) return report_server_error(*answer, io.err);
    if (flags.json) {
      io.out << (answer->body.is_null() ? answer->raw : answer->body.dump(2)) << "\n";
      return kExitOk;
    }
    return print_list(*answer, io);
  });
}

int run_cleanup(const CheckpointFlags& flags, const CliIo& io) {
  constexpr std::string_view kCmd = "checkpoint cleanup";
  if (flags.max_age_days < 0 || flags.max_age_days > kMaxAgeDays) {
    return usage_error(io.err, kCmd,
                       "--max-age-days must be between 0 and " + std::to_string(kMaxAgeDays) +
                           ", got " + std::to_string(flags.max_age_days));
  }
  return with_client(flags, io, kCmd, [&](const Client& client) {
    const nlohmann::json body = {{"namespace", "checkpoints"},
                                 {"older_than_s", flags.max_age_days * kDayS}};
    std::optional<Answer> answer = client.call(HttpMethod::kPost, "/v1/invalidate", body, io.err);
    if (!answer) return kExitFailure;
    if (!answer->ok()) return report_server_error(*answer, io.err);
    nlohmann::json n;
    if (answer->body.is_object() && answer->body.contains("invalidated")) {
      n = answer->body["invalidated"];
    }
    io.out << "removed " << (n.is_null() ? std::string("?") : n.dump())
           << (n == 1 ? " checkpoint" : " checkpoints") << " older than " << flags.max_age_days
           << (flags.max_age_days == 1 ? " day" : " days") << "\n";
    return kExitOk;
  });
}

}  // namespace

Command add_checkpoint_command(CLI::App& root) {
  auto flags = std::make_shared<CheckpointFlags>();
  CLI::App* app = root.add_subcommand(
      "checkpoint",
      "Save, restore, list and clean up checkpoints: JSON snapshots kept by the server in the "
      "persistent 'checkpoints' namespace.");
  app->require_subcommand(1);

  CLI::App* save =
      app->add_subcommand("save", "Store a JSON document as checkpoint ID (replaces it).");
  save->add_option("--id", flags->id, "the checkpoint's id, e.g. 'deploy:step_5'")
      ->required()
      ->option_text("ID");
  save->add_option("--file", flags->file,
                   "file holding the JSON document; '-' reads standard input")
      ->required()
      ->option_text("FILE");
  add_client_flags(*save, &flags->client);
  save->footer("Example:\n  plancache checkpoint save --id deploy:step_5 --file state.json");

  CLI::App* restore = app->add_subcommand(
      "restore", "Print checkpoint ID, or write it to a file (exit 1 when there is none).");
  restore->add_option("--id", flags->id, "the checkpoint's id")->required()->option_text("ID");
  restore->add_option("--output", flags->output, "write the document here instead of printing it")
      ->option_text("FILE");
  add_client_flags(*restore, &flags->client);
  restore->footer(
      "Example:\n  plancache checkpoint restore --id deploy:step_5 --output state.json");

  CLI::App* list = app->add_subcommand("list", "List the checkpoints: id, created, age, size.");
  list->add_flag("--json", flags->json, "print the server's JSON listing instead of a table");
  add_client_flags(*list, &flags->client);

  CLI::App* cleanup = app->add_subcommand(
      "cleanup", "Remove the checkpoints created more than N days ago; prints how many.");
  cleanup
      ->add_option("--max-age-days", flags->max_age_days,
                   "age in whole days; 0 removes every checkpoint created before now")
      ->required()
      ->option_text("N");
  add_client_flags(*cleanup, &flags->client);
  cleanup->footer("Example:\n  plancache checkpoint cleanup --max-age-days 7");

  auto run = [flags, save, restore, list, cleanup](const CliIo& io) {
    if (save->parsed()) return run_save(*flags, io);
    if (restore->parsed()) return run_restore(*flags, io);
    if (list->parsed()) return run_list(*flags, io);
    if (cleanup->parsed()) return run_cleanup(*flags, io);
    return usage_error(io.err, "checkpoint", "give one of save, restore, list, cleanup");
  };
  return {app, run};
}

}  // namespace plancache::cli
