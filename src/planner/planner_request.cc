// The request document every planner receives, and the normalisation of
// what it answers (planner_json.h).
#include <new>

#include <nlohmann/json.hpp>

#include "core/canonical_json.h"
#include "core/utf8.h"
#include "planner/planner.h"
#include "planner/planner_json.h"

namespace plancache::internal {

// {"goal","context","namespace"(,"incremental")} in that order (ordered_json keeps the order
// the SPEC writes, which is also what a human reading a planner log expects).
// A context that is not valid JSON (callers pass validated text, so this is a
// bug upstream) is sent as null rather than failing the plan.
std::string planner_request_body(const PlanRequest& request) {
  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  body["goal"] = request.goal;
  body["context"] = nlohmann::ordered_json::parse(request.context_json, nullptr,
                                                  /*allow_exceptions=*/false);
  if (body["context"].is_discarded()) body["context"] = nullptr;
  body["namespace"] = request.ns;
  if (!request.incremental_json.empty()) {
    nlohmann::ordered_json incremental = nlohmann::ordered_json::parse(
        request.incremental_json, nullptr, /*allow_exceptions=*/false);
    if (!incremental.is_discarded()) body["incremental"] = std::move(incremental);
  }
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<std::string> normalize_planner_answer(std::string_view answer, std::string_view who) {
  Result<nlohmann::json> parsed = parse_json(answer, "answer");
  if (!parsed.is_ok()) {
    std::string detail = parsed.status().message();
    constexpr std::string_view kPrefix = "answer is not valid JSON: ";
    if (detail.starts_with(kPrefix)) detail.erase(0, kPrefix.size());
    return Status::bad_gateway(std::string(who) + ": planner answered with invalid JSON: " +
                               detail + " (answer starts with '" + excerpt(answer, 60) + "')");
  }
  try {
    return parsed->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::bad_alloc&) {
    return Status::bad_gateway(std::string(who) + ": planner answer too large to re-serialise");
  }
}

std::string excerpt(std::string_view text, size_t max_bytes) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return "(empty)";
  text = text.substr(first, text.find_last_not_of(kSpace) - first + 1);
  // Copy one byte more than shown, so printable_ascii still marks the cut.
  std::string trimmed(text.substr(0, max_bytes + 1));
  for (char& c : trimmed) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';  // multi-line stderr reads as one line
  }
  return printable_ascii(trimmed, max_bytes);
}

Result<PlannerAnswer> Planner::plan_with_hints(const PlanRequest& request) {
  Result<std::string> plan = this->plan(request);
  if (!plan.is_ok()) return plan.status();
  return PlannerAnswer{std::move(plan).value(), EntryPriority::kNormal};
}

Status planner_cancelled(const std::string& described) {
  return Status::unavailable(described + ": cancelled: the server is stopping");
}

}  // namespace plancache::internal
