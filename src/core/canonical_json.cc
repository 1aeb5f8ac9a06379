// Canonical JSON writer and JSON parsing with a depth limit.
//
// Idea: one deterministic text per JSON value, so that contexts that mean the
// same thing hash to the same key on every machine. Parsing is nlohmann's;
// the writer is ours because nlohmann's dump() has no number rule of our
// choosing, keeps ignored fields and throws on invalid UTF-8.
//
// Invariants:
//  - Output is valid JSON, valid UTF-8 and contains no raw control byte.
//  - canonical(parse(canonical(x))) == canonical(x): every number the writer
//    prints parses back to a value that prints the same way (integers stay
//    integers; a double prints the shortest digits that round-trip, and a
//    double that prints as an integer and fits int64/uint64 parses back to
//    that same integer), and nothing else depends on formatting.
//  - Recursion is bounded by kMaxJsonDepth: parse_json pre-scans the text
//    (brackets outside strings) before nlohmann allocates anything, and the
//    writer checks depth as it descends (for values built in code).
//  - A set array (the value of a member named in the set-array rules) is
//    written as its elements' canonical texts in one total order: elements
//    that have the sort member first, by that member's text, then the
//    others; ties by the whole text, so equal texts are the only ties and
//    the order does not depend on the input order or on the sort algorithm.
//    Sorting canonical texts again gives the same order, so the invariant
//    above holds with set arrays too.
#include "core/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <new>

#include "core/utf8.h"

namespace plancache::internal {

// Deepest bracket nesting in `text`, counting only brackets outside strings.
// Stops early once `limit` is exceeded. Exact for valid JSON; for invalid
// JSON any answer is fine because nlohmann rejects it anyway.
int bracket_depth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] "; keep
// what follows, made safe for a JSON error body.
std::string parser_message(const char* what) {
  std::string_view msg(what);
  const size_t end_of_tag = msg.find("] ");
  if (!msg.empty() && msg.front() == '[' && end_of_tag != std::string_view::npos) {
    msg.remove_prefix(end_of_tag + 2);
  }
  return printable_ascii(msg, 200);
}

void append_escaped(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.substr(run_start, i - run_start));
    run_start = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(s.substr(run_start));
  out->push_back('"');
}

template <typename Int>
void append_integer(Int v, std::string* out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

class CanonicalWriter {
 public:
  CanonicalWriter(const std::vector<std::string>& ignored, const SetArrays* set_arrays)
      : ignored_(ignored),
        set_arrays_(set_arrays != nullptr && !set_arrays->empty() ? set_arrays : nullptr) {}

  Status write(const nlohmann::json& v, int depth, std::string* out) const {
    using Type = nlohmann::json::value_t;
    switch (v.type()) {
      case Type::null:
        out->append("null");
        return Status::ok();
      case Type::boolean:
        out->append(v.get<bool>() ? "true" : "false");
        return Status::ok();
      case Type::number_integer:
        append_integer(v.get<int64_t>(), out);
        return Status::ok();
      case Type::number_unsigned:
        append_integer(v.get<uint64_t>(), out);
        return Status::ok();
      case Type::number_float:
        return write_double(v.get<double>(), out);
      case Type::string:
        return write_string(v.get_ref<const std::string&>(), "a string", out);
      case Type::array:
        return write_array(v, depth + 1, out);
      case Type::object:
        return write_object(v, depth + 1, out);
      case Type::binary:
      case Type::discarded:
        break;
    }
    return Status::invalid_argument("context holds a value that is not JSON");
  }

 private:
  static Status write_double(double d, std::string* out) {
    if (!std::isfinite(d)) return Status::invalid_argument("context holds NaN or infinity");
    out->append(format_double(d));
    return Status::ok();
  }

  static Status write_string(const std::string& s, const char* what, std::string* out) {
    const size_t bad = find_invalid_utf8(s);
    if (bad != std::string_view::npos) {
      return Status::invalid_argument(std::string("context holds ") + what +
                                      " that is not valid UTF-8 (byte " + std::to_string(bad) +
                                      " of \"" + printable_ascii(s, 40) + "\")");
    }
    append_escaped(s, out);
    return Status::ok();
  }

  static Status too_deep() {
    return Status::invalid_argument("context nests deeper than " + std::to_string(kMaxJsonDepth) +
                                    " levels");
  }

  Status write_array(const nlohmann::json& v, int depth, std::string* out) const {
    if (depth > kMaxJsonDepth) return too_deep();
    out->push_back('[');
    bool first = true;
    for (const auto& item : v) {
      if (!first) out->push_back(',');
      first = false;
      PLANCACHE_RETURN_IF_ERROR(write(item, depth, out));
    }
    out->push_back(']');
    return Status::ok();
  }

  // nlohmann::json's object_t is a std::map<std::string, json>: iteration is
  // in std::string order, i.e. char_traits<char>::compare, which compares
  // bytes as unsigned char = UTF-8 byte order = code point order.
  Status write_object(const nlohmann::json& v, int depth, std::string* out) const {
    if (depth > kMaxJsonDepth) return too_deep();
    out->push_back('{');
    bool first = true;
    for (const auto& [name, member] : v.get_ref<const nlohmann::json::object_t&>()) {
      if (is_ignored(name)) continue;
      if (!first) out->push_back(',');
      first = false;
      PLANCACHE_RETURN_IF_ERROR(write_string(name, "an object key", out));
      out->push_back(':');
      PLANCACHE_RETURN_IF_ERROR(write_member(name, member, depth, out));
    }
    out->push_back('}');
    return Status::ok();
  }

  // The value of member `name` of an object at `depth`: sorted when it is
  // an array the set-array rules name.
  Status write_member(std::string_view name, const nlohmann::json& member, int depth,
                      std::string* out) const {
    if (set_arrays_ != nullptr && member.is_array()) {
      const auto rule = set_arrays_->find(name);
      if (rule != set_arrays_->end()) return write_set(member, rule->second, depth + 1, out);
    }
    return write(member, depth, out);
  }

  // One element of a set array: its sort key and its canonical text.
  struct SetElement {
    bool lacks_member = false;  // no sort member: after those that have it
    std::string member_text;    // the sort member's canonical text
    std::string text;           // the element's canonical text
    bool operator<(const SetElement& o) const {
      if (lacks_member != o.lacks_member) return o.lacks_member;
      if (int c = member_text.compare(o.member_text); c != 0) return c < 0;
      return text < o.text;  // std::string order: unsigned bytes
    }
  };

  // A set array at `depth`, sorted by `sort_member` ("" = by the text).
  Status write_set(const nlohmann::json& v, std::string_view sort_member, int depth,
                   std::string* out) const {
    if (depth > kMaxJsonDepth) return too_deep();
    std::vector<SetElement> elements(v.size());
    size_t i = 0;
    for (const auto& item : v) {
      SetElement& e = elements[i++];
      PLANCACHE_RETURN_IF_ERROR(write(item, depth, &e.text));
      if (sort_member.empty()) continue;
      const auto found = item.is_object() ? item.find(sort_member) : item.end();
      e.lacks_member = found == item.end() || is_ignored(sort_member);
      if (!e.lacks_member) {
        PLANCACHE_RETURN_IF_ERROR(write_member(sort_member, *found, depth + 1, &e.member_text));
      }
    }
    std::sort(elements.begin(), elements.end());
    out->push_back('[');
    for (size_t k = 0; k < elements.size(); ++k) {
      if (k != 0) out->push_back(',');
      out->append(elements[k].text);
    }
    out->push_back(']');
    return Status::ok();
  }

  bool is_ignored(std::string_view name) const {
    return std::find(ignored_.begin(), ignored_.end(), name) != ignored_.end();
  }

  const std::vector<std::string>& ignored_;
  const SetArrays* set_arrays_;  // null: no set arrays
};

}  // namespace

std::string format_double(double value) {
  if (value == 0) return "0";  // also -0
  std::string out;
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  // Shortest round-trip digits, in the form "d[.ddd]e[+-]xx".
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  const size_t e_pos = sci.find('e');
  std::string digits(1, sci[0]);
  if (e_pos > 1) digits.append(sci.substr(2, e_pos - 2));
  const int exp10 = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
  // ECMAScript Number::toString, with k = digit count and n = exp10 + 1
  // (value = 0.d1d2..dk * 10^n).
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

Result<nlohmann::json> parse_json(std::string_view text, std::string_view what, int max_depth) {
  if (bracket_depth(text, max_depth) > max_depth) {
    return Status::invalid_argument(std::string(what) + " nests deeper than " +
                                    std::to_string(max_depth) + " levels");
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return Status::invalid_argument(std::string(what) +
                                    " is not valid JSON: " + parser_message(e.what()));
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted(std::string(what) + " is too large to parse");
  }
}

Result<std::string> canonical_json(const nlohmann::json& value,
                                   const std::vector<std::string>& ignored_fields,
                                   const SetArrays* set_arrays) {
  std::string out;
  PLANCACHE_RETURN_IF_ERROR(CanonicalWriter(ignored_fields, set_arrays).write(value, 0, &out));
  return out;
}

Result<std::string> canonical_json_text(std::string_view text,
                                        const std::vector<std::string>& ignored_fields,
                                        const SetArrays* set_arrays) {
  if (text.empty()) return std::string("null");
  Result<nlohmann::json> parsed = parse_json(text);
  if (!parsed.is_ok()) return parsed.status();
  return canonical_json(*parsed, ignored_fields, set_arrays);
}

}  // namespace plancache::internal
