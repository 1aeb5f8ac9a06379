// `plancache warm --predict` (warm_predict.h): POST /v1/predict[?dry_run=1]
// [&namespace=NS] and the table of its answer, one row per candidate:
//
//   ACTION         CONF  KIND    NAMESPACE  GOAL               CONTEXT         REASON
//   would compute  0.89  family  ops        deploy the worker  {"env":"prod"}  family over ...
//
// GOAL and CONTEXT are cut at kMaxGoal and kMaxContext bytes (at a UTF-8
// character boundary); the reason is printed whole, last.
#include "cli/commands/warm_predict.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace plancache::cli {
namespace {

constexpr size_t kMaxGoal = 40;
constexpr size_t kMaxContext = 60;

// What the server's action names mean, as the table says them.
std::string action_text(const std::string& action) {
  if (action == "would_compute") return "would compute";
  if (action == "dropped_busy") return "dropped (busy)";
  if (action == "below_threshold") return "below threshold";
  return action;
}

std::string clip(std::string text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

// "a b" -> "a%20b": a namespace name in a query string.
std::string query_escaped(const std::string& text) {
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
      out += static_cast<char>(ch);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      out += buf;
    }
  }
  return out;
}

using Row = std::vector<std::string>;

std::vector<Row> rows_of(const nlohmann::json& predictions) {
  std::vector<Row> rows = {{"ACTION", "CONF", "KIND", "NAMESPACE", "GOAL", "CONTEXT", "REASON"}};
  for (const nlohmann::json& p : predictions) {
    char confidence[16];
    std::snprintf(confidence, sizeof confidence, "%.2f", p.value("confidence", 0.0));
    const nlohmann::json context = p.contains("context") ? p["context"] : nlohmann::json();
    rows.push_back(
        {action_text(p.value("action", "")), confidence, p.value("kind", ""),
         p.value("namespace", ""), clip(p.value("goal", ""), kMaxGoal),
         clip(context.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kMaxContext),
         p.value("reason", "")});
  }
  return rows;
}

void print_table(const std::vector<Row>& rows, std::ostream& out) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const Row& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const Row& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

// "3 candidates: 1 started, 1 dropped (busy), 1 below threshold".
std::string summary(const nlohmann::json& predictions, bool dry_run) {
  std::map<std::string, size_t> by_action;
  for (const nlohmann::json& p : predictions) ++by_action[action_text(p.value("action", ""))];
  const size_t n = predictions.size();
  std::string out = std::to_string(n) + (n == 1 ? " candidate" : " candidates");
  std::string parts;
  for (const auto& [action, count] : by_action) {
    parts += (parts.empty() ? ": " : ", ") + std::to_string(count) + " " + action;
  }
  return out + parts + (dry_run ? " (dry run: nothing started)" : "");
}

}  // namespace

int run_warm_predict(const Client& client, bool dry_run, const std::string& ns, const CliIo& io) {
  std::string path = "/v1/predict";
  std::string query;
  if (dry_run) query += "dry_run=1";
  if (!ns.empty())
    query += (query.empty() ? "" : "&") + std::string("namespace=") + query_escaped(ns);
  if (!query.empty()) path += "?" + query;
  std::optional<Answer> answer = client.call(HttpMethod::kPost, path, nullptr, io.err);
  if (!answer) return kExitFailure;
  if (!answer->ok()) return report_server_error(*answer, io.err);
  const auto predictions =
      answer->body.is_object() ? answer->body.find("predictions") : answer->body.end();
  if (predictions == answer->body.end() || !predictions->is_array()) {
    io.err << "error: unexpected answer from POST /v1/predict: " << answer->raw.substr(0, 200)
           << "\n";
    return kExitFailure;
  }
  if (!predictions->empty()) print_table(rows_of(*predictions), io.out);
  io.out << summary(*predictions, dry_run) << "\n" << std::flush;
  return kExitOk;
}

}  // namespace plancache::cli
