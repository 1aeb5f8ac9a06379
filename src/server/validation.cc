#include "server/validation.h"

#include <charconv>
#include <cstring>
#include <limits>

#include "core/canonical_json.h"
#include "core/utf8.h"
#include "plancache/entry.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

std::string field_error(std::string_view field, std::string_view what) {
  return "field '" + std::string(field) + "' " + std::string(what);
}

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

}  // namespace

Status validate_namespace(std::string_view ns) {
  // One rule for names everywhere (config tables, HTTP, CLI): the library's.
  const Status s = validate_namespace_name(ns);
  if (s.is_ok()) return s;
  return Status::invalid_argument("invalid namespace '" + printable_ascii(ns) + "': " +
                                  s.message());
}

Status validate_user_key(std::string_view key) {
  const Status s = plancache::validate_user_key(key);
  if (s.is_ok() || key.empty() || key.size() > kMaxUserKeyBytes) return s;
  return Status::invalid_argument(s.message() + ": '" + printable_ascii(key) + "'");
}

// The byte-level checks every JSON body passes before nlohmann sees it.
static Status precheck_body(std::string_view body) {
  if (body.empty()) return Status::invalid_argument("request body is empty (expected JSON)");
  if (std::memchr(body.data(), '\0', body.size()) != nullptr) {
    return Status::invalid_argument("request body contains a NUL byte");
  }
  if (const size_t at = find_invalid_utf8(body); at != std::string_view::npos) {
    return Status::invalid_argument("request body is not valid UTF-8 (byte " + std::to_string(at) +
                                    ")");
  }
  if (bracket_depth(body, static_cast<int>(kMaxRequestJsonDepth)) >
      static_cast<int>(kMaxRequestJsonDepth)) {
    return Status::invalid_argument("request body nests deeper than " +
                                    std::to_string(kMaxRequestJsonDepth) + " levels");
  }
  return Status::ok();
}

Status check_json_text(std::string_view body) {
  PLANCACHE_RETURN_IF_ERROR(precheck_body(body));
  if (!json::accept(body.begin(), body.end())) {
    // Parse again only to get a message saying where.
    return parse_json_body(body).status();
  }
  return Status::ok();
}

Result<json> parse_json_body(std::string_view body) {
  PLANCACHE_RETURN_IF_ERROR(precheck_body(body));
  try {
    return json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    return Status::invalid_argument(std::string("request body is not valid JSON: ") + e.what());
  }
}

Status require_object(const json& body, std::string_view what) {
  if (!body.is_object()) {
    return Status::invalid_argument(std::string(what) + " must be a JSON object");
  }
  return Status::ok();
}

Result<std::optional<std::string>> optional_string(const json& body, std::string_view field) {
  const auto it = body.find(field);
  if (it == body.end()) return std::optional<std::string>();
  if (!it->is_string()) return Status::invalid_argument(field_error(field, "must be a string"));
  return std::optional<std::string>(it->get_ref<const std::string&>());
}

Result<std::optional<int64_t>> optional_non_negative(const json& body, std::string_view field,
                                                     int64_t max) {
  const auto it = body.find(field);
  if (it == body.end()) return std::optional<int64_t>();
  bool ok = false;
  if (it->is_number_unsigned()) {
    ok = it->get<uint64_t>() <= static_cast<uint64_t>(max);
  } else if (it->is_number_integer()) {
    ok = it->get<int64_t>() >= 0 && it->get<int64_t>() <= max;
  }
  if (!ok) {
    return Status::invalid_argument(
        field_error(field, "must be a non-negative integer no larger than " + std::to_string(max)));
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

Status validate_tag(std::string_view tag, std::string_view field) {
  if (tag.empty() || std::memchr(tag.data(), '\0', tag.size()) != nullptr || !is_valid_utf8(tag)) {
    return Status::invalid_argument(
        field_error(field, "must be a non-empty UTF-8 string without NUL"));
  }
  return Status::ok();
}

Result<std::vector<std::string>> optional_tags(const json& body) {
  std::vector<std::string> tags;
  const auto it = body.find("tags");
  if (it == body.end()) return tags;
  if (!it->is_array()) {
    return Status::invalid_argument(field_error("tags", "must be an array of non-empty strings"));
  }
  tags.reserve(it->size());
  for (const json& tag : *it) {
    if (!tag.is_string() || tag.get_ref<const std::string&>().empty()) {
      return Status::invalid_argument(field_error("tags", "must be an array of non-empty strings"));
    }
    PLANCACHE_RETURN_IF_ERROR(validate_tag(tag.get_ref<const std::string&>(), "tags"));
    tags.push_back(tag.get<std::string>());
  }
  return tags;
}

Result<PlanFields> parse_plan_fields(const json& body) {
  PLANCACHE_RETURN_IF_ERROR(require_object(body, "request body"));
  PlanFields fields;
  const auto goal = body.find("goal");
  if (goal == body.end() || !goal->is_string() || goal->get_ref<const std::string&>().empty()) {
    return Status::invalid_argument(field_error("goal", "must be a non-empty string"));
  }
  fields.goal = goal->get<std::string>();
  auto ns = optional_string(body, "namespace");
  if (!ns.is_ok()) return ns.status();
  if (*ns) {
    PLANCACHE_RETURN_IF_ERROR(validate_namespace(**ns));
    fields.ns = std::move(**ns);
  }
  const auto context = body.find("context");
  if (context != body.end()) fields.context = &*context;
  return fields;
}

Result<EntryPriority> parse_priority(std::string_view text, std::string_view field) {
  auto priority = parse_entry_priority(text);
  if (priority.is_ok()) return priority;
  std::string message = "'";
  message.append(field);
  message.append(R"(' must be "important" or "temporary" (or "normal", the default), got ')");
  message.append(printable_ascii(text.substr(0, 64)));
  message.append("'");
  return Status::invalid_argument(std::move(message));
}

Result<int64_t> parse_non_negative(std::string_view text, std::string_view field, int64_t max) {
  int64_t n = -1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end || n < 0 || n > max) {
    // Built by append: GCC 12 -O3 warns (-Wrestrict, a false positive) on
    // `"'" + std::string(...)`.
    std::string message = "'";
    message.append(field);
    message.append("' must be a non-negative integer no larger than ");
    message.append(std::to_string(max));
    message.append(", got '");
    message.append(printable_ascii(text));
    message.append("'");
    return Status::invalid_argument(std::move(message));
  }
  return n;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (ch == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    auto name = percent_decode(part.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
    if (!name || !value) {
      return Status::invalid_argument("malformed percent-escape in query '" +
                                      printable_ascii(part) + "'");
    }
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

}  // namespace plancache::internal
