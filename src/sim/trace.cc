// Trace formats: detection and one line parser per format.
//
// The reader pulls lines from a LineReader and decodes each into at most one
// pending run of accesses (an ARC line is a run of consecutive keys; every
// other format gives zero or one access per line), so memory does not depend
// on the trace. A bad line stops the reader with "FILE:LINE: what is wrong";
// nothing is skipped silently except what the format says is not an access
// (blank lines, comments, headers, LIRS "*" markers).
#include "sim/trace.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/hashing.h"
#include "plancache/entry.h"

namespace plancache::internal {
namespace {

constexpr uint64_t kMaxArcRun = uint64_t{1} << 32;  // accesses one ARC line may expand to

constexpr std::array<std::pair<TraceFormat, std::string_view>, 7> kFormatNames = {{
    {TraceFormat::kAuto, "auto"},
    {TraceFormat::kKeys, "keys"},
    {TraceFormat::kCsv, "csv"},
    {TraceFormat::kJsonl, "jsonl"},
    {TraceFormat::kArc, "arc"},
    {TraceFormat::kPenalties, "penalties"},
    {TraceFormat::kLirs, "lirs"},
}};

std::string_view trim(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const size_t last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

bool is_skipped(std::string_view trimmed) { return trimmed.empty() || trimmed[0] == '#'; }

bool parse_u64(std::string_view s, uint64_t* out, int base = 10) {
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

// Splits `s` at runs of spaces and tabs into at most N fields; returns how
// many there were (N + 1 when there were more).
template <size_t N>
size_t split_ws(std::string_view s, std::array<std::string_view, N>* fields) {
  size_t count = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    pos = s.find_first_not_of(" \t", pos);
    if (pos == std::string_view::npos) break;
    const size_t end = std::min(s.find_first_of(" \t", pos), s.size());
    if (count == N) return N + 1;
    (*fields)[count++] = s.substr(pos, end - pos);
    pos = end;
  }
  return count;
}

std::string quoted(std::string_view s) {
  constexpr size_t kShown = 40;
  return "'" + std::string(s.substr(0, kShown)) + (s.size() > kShown ? "...'" : "'");
}

// A non-negative cost in ms (a fraction is rounded), at most 2^32 - 1.
Status parse_cost(std::string_view s, std::string_view what, uint32_t* out) {
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value) ||
      value < 0 || value > std::numeric_limits<uint32_t>::max()) {
    return Status::invalid_argument(std::string(what) + " " + quoted(s) +
                                    " is not a number of milliseconds in [0, 4294967295]");
  }
  *out = static_cast<uint32_t>(std::llround(value));
  return Status::ok();
}

Status parse_size(std::string_view s, uint64_t* out) {
  if (!parse_u64(s, out)) {
    return Status::invalid_argument("size " + quoted(s) + " is not a non-negative integer");
  }
  return Status::ok();
}

// --- one parser per format: *count = accesses the line holds (0 = none) -----

Status parse_keys(std::string_view line, Access* out, uint64_t* count) {
  const std::string_view token = trim(line);
  if (is_skipped(token)) return Status::ok();
  out->key = key_of_token(token);
  *count = 1;
  return Status::ok();
}

Status parse_lirs(std::string_view line, Access* out, uint64_t* count) {
  const std::string_view token = trim(line);
  if (token.empty() || token == "*") return Status::ok();
  if (!parse_u64(token, &out->key)) {
    return Status::invalid_argument("expected an integer key (lirs format), got " + quoted(token));
  }
  *count = 1;
  return Status::ok();
}

Status parse_csv(std::string_view line, bool first_line, Access* out, uint64_t* count) {
  const std::string_view trimmed = trim(line);
  if (is_skipped(trimmed)) return Status::ok();
  std::array<std::string_view, 3> fields;
  size_t n = 0;
  for (size_t pos = 0; pos <= trimmed.size(); ++n) {
    const size_t comma = std::min(trimmed.find(',', pos), trimmed.size());
    if (n == fields.size()) {
      return Status::invalid_argument("expected key,size,cost_ms (at most 3 fields), got more");
    }
    fields[n] = trim(trimmed.substr(pos, comma - pos));
    pos = comma + 1;
  }
  std::string_view key = fields[0];
  if (key.size() >= 2 && key.front() == '"' && key.back() == '"')
    key = key.substr(1, key.size() - 2);
  if (first_line && (key == "key" || key == "KEY" || key == "Key")) return Status::ok();  // header
  if (key.empty()) return Status::invalid_argument("empty key");
  out->key = key_of_token(key);
  if (n >= 2) PLANCACHE_RETURN_IF_ERROR(parse_size(fields[1], &out->size));
  if (n >= 3) PLANCACHE_RETURN_IF_ERROR(parse_cost(fields[2], "cost_ms", &out->cost_ms));
  *count = 1;
  return Status::ok();
}

// "parse error at column 7: ..." for a line that is not JSON.
std::string json_error(std::string_view line) {
  try {
    const nlohmann::json ignored = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    std::string reason = e.what();
    if (const size_t bracket = reason.find("] "); bracket != std::string::npos) {
      reason.erase(0, bracket + 2);
    }
    if (const size_t at = reason.find("at line 1, column "); at != std::string::npos) {
      reason.replace(at, 18, "at column ");
    }
    return "not valid JSON: " + reason;
  }
  return "not valid JSON";
}

Status jsonl_key(const nlohmann::json& value, Access* out) {
  if (value.is_number_unsigned()) {
    out->key = value.get<uint64_t>();
  } else if (value.is_string() && !value.get_ref<const std::string&>().empty()) {
    out->key = key_of_token(value.get_ref<const std::string&>());
  } else {
    return Status::invalid_argument("\"key\" must be a non-negative integer or a non-empty string");
  }
  return Status::ok();
}

Status jsonl_fields(const nlohmann::json& doc, Access* out) {
  const auto field = [&](const char* name) -> const nlohmann::json* {
    const auto it = doc.find(name);
    return it == doc.end() || it->is_null() ? nullptr : &*it;
  };
  const nlohmann::json* key = field("key");
  if (key == nullptr) return Status::invalid_argument("missing \"key\"");
  PLANCACHE_RETURN_IF_ERROR(jsonl_key(*key, out));
  if (const nlohmann::json* size = field("size")) {
    if (!size->is_number_unsigned()) {
      return Status::invalid_argument("\"size\" must be a non-negative integer");
    }
    out->size = size->get<uint64_t>();
  }
  if (const nlohmann::json* cost = field("cost_ms")) {
    const double ms = cost->is_number() ? cost->get<double>() : -1;
    if (!(ms >= 0 && ms <= std::numeric_limits<uint32_t>::max())) {
      return Status::invalid_argument("\"cost_ms\" must be a number in [0, 4294967295]");
    }
    out->cost_ms = static_cast<uint32_t>(std::llround(ms));
  }
  if (const nlohmann::json* t = field("t")) {
    if (!t->is_number_integer()) return Status::invalid_argument("\"t\" must be an integer (ms)");
    out->time_ms = t->get<int64_t>();
  }
  if (const nlohmann::json* ns = field("ns")) {
    if (!ns->is_string()) return Status::invalid_argument("\"ns\" must be a string");
    PLANCACHE_RETURN_IF_ERROR(validate_namespace_name(ns->get_ref<const std::string&>()));
    out->ns = ns->get<std::string>();
  }
  return Status::ok();
}

// The JSONL line's object and its "op" ("" when it has none: a request).
// Errors: not JSON, not an object, "op" not a string.
Result<std::string> jsonl_object(std::string_view line, nlohmann::json* doc) {
  *doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc->is_discarded()) return Status::invalid_argument(json_error(line));
  if (!doc->is_object()) return Status::invalid_argument("expected a JSON object {\"key\": ...}");
  const auto op = doc->find("op");
  if (op == doc->end() || op->is_null()) return std::string();
  if (!op->is_string()) return Status::invalid_argument("\"op\" must be a string");
  return op->get<std::string>();
}

Status parse_jsonl(std::string_view line, const PutFills* fills, Access* out, uint64_t* count) {
  if (trim(line).empty()) return Status::ok();
  nlohmann::json doc;
  Result<std::string> op = jsonl_object(line, &doc);
  if (!op.is_ok()) return op.status();
  // The server's access log also records puts: only gets are requests.
  if (!op->empty() && *op != "get") return Status::ok();
  PLANCACHE_RETURN_IF_ERROR(jsonl_fields(doc, out));
  if (fills != nullptr && !doc.contains("size")) {
    if (auto it = fills->find(fill_identity(out->ns, out->key)); it != fills->end()) {
      out->size = it->second.size;
      out->cost_ms = it->second.cost_ms;
    }
  }
  *count = 1;
  return Status::ok();
}


Status parse_arc(std::string_view line, Access* out, uint64_t* count) {
  std::array<std::string_view, 4> f;
  const size_t n = split_ws(trim(line), &f);
  if (n == 0) return Status::ok();
  uint64_t run = 0;
  if (n < 2 || !parse_u64(f[0], &out->key) || !parse_u64(f[1], &run)) {
    return Status::invalid_argument(
        "expected 'start_block block_count ignored request_no' (arc format)");
  }
  if (run > kMaxArcRun || out->key > std::numeric_limits<uint64_t>::max() - run) {
    return Status::invalid_argument("block_count " + quoted(f[1]) + " is out of range");
  }
  *count = run;
  return Status::ok();
}

Status parse_penalties(std::string_view line, Access* out, uint64_t* count) {
  std::array<std::string_view, 5> f;
  const size_t n = split_ws(trim(line), &f);
  if (n == 0) return Status::ok();
  if (n != 5) {
    return Status::invalid_argument(
        "expected 'op 0xADDRESS size hit_penalty miss_penalty' (penalties format)");
  }
  std::string_view address = f[1];
  if (address.substr(0, 2) == "0x" || address.substr(0, 2) == "0X") address.remove_prefix(2);
  uint64_t hit_penalty = 0;
  if (!parse_u64(address, &out->key, 16)) {
    return Status::invalid_argument("address " + quoted(f[1]) + " is not a hexadecimal number");
  }
  PLANCACHE_RETURN_IF_ERROR(parse_size(f[2], &out->size));
  if (!parse_u64(f[3], &hit_penalty)) {
    return Status::invalid_argument("hit_penalty " + quoted(f[3]) + " is not an integer");
  }
  PLANCACHE_RETURN_IF_ERROR(parse_cost(f[4], "miss_penalty", &out->cost_ms));
  *count = 1;
  return Status::ok();
}

// The format a file name says, or kAuto.
TraceFormat format_from_name(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* suffix : {".gz", ".xz"}) {
    if (name.ends_with(suffix)) name.resize(name.size() - 3);
  }
  if (name.starts_with("arc-")) return TraceFormat::kArc;
  if (name.starts_with("penalties-")) return TraceFormat::kPenalties;
  if (name.starts_with("lirs-")) return TraceFormat::kLirs;
  if (name.ends_with(".csv")) return TraceFormat::kCsv;
  if (name.ends_with(".jsonl") || name.ends_with(".ndjson")) return TraceFormat::kJsonl;
  return TraceFormat::kAuto;
}

// The format a first line looks like.
TraceFormat format_from_line(std::string_view line) {
  const std::string_view t = trim(line);
  if (t.starts_with("{")) return TraceFormat::kJsonl;
  std::array<std::string_view, 5> f;
  const size_t n = split_ws(t, &f);
  if (n == 5 && (f[1].starts_with("0x") || f[1].starts_with("0X"))) return TraceFormat::kPenalties;
  if (t.find(',') != std::string_view::npos) return TraceFormat::kCsv;
  uint64_t ignored = 0;
  if (n == 4 && std::all_of(f.begin(), f.begin() + 4,
                            [&](std::string_view s) { return parse_u64(s, &ignored); })) {
    return TraceFormat::kArc;
  }
  return TraceFormat::kKeys;
}

Result<LineReader> open_lines(const std::string& path, OpenedSource* opened) {
  Result<OpenedSource> source = open_byte_source(path);
  if (!source.is_ok()) return source.status();
  *opened = std::move(source).value();
  return LineReader(std::move(opened->source), path);
}

Result<TraceFormat> detect_format(const std::string& path) {
  const TraceFormat by_name = format_from_name(path);
  if (by_name != TraceFormat::kAuto) return by_name;
  OpenedSource opened;
  Result<LineReader> lines = open_lines(path, &opened);
  if (!lines.is_ok()) return lines.status();
  std::string_view line;
  for (;;) {
    Result<bool> more = lines->next(&line);
    if (!more.is_ok()) return more.status();
    if (!*more) return TraceFormat::kKeys;  // empty: any format reads it as empty
    if (!is_skipped(trim(line))) return format_from_line(line);
  }
}

// The put lines of a JSONL file (PutFills); null when it has none. Lines
// that do not parse are skipped here: the main pass reports them.
Result<std::shared_ptr<const PutFills>> collect_put_fills(const std::string& path) {
  OpenedSource opened;
  Result<LineReader> lines = open_lines(path, &opened);
  if (!lines.is_ok()) return lines.status();
  auto fills = std::make_shared<PutFills>();
  std::string_view line;
  // A JSONL trace that is not an access log has no "op" at all: give up on
  // it after its first lines rather than read it twice.
  constexpr uint64_t kLinesWithoutOp = 1000;
  bool any_op = false;
  for (uint64_t n = 0;; ++n) {
    Result<bool> more = lines->next(&line);
    if (!more.is_ok()) return more.status();
    if (!*more) break;
    any_op = any_op || line.find("\"op\"") != std::string_view::npos;
    if (!any_op && n >= kLinesWithoutOp) break;
    if (line.find("\"put\"") == std::string_view::npos) continue;  // cheap pre-filter
    nlohmann::json doc;
    Result<std::string> op = jsonl_object(line, &doc);
    Access put;
    if (!op.is_ok() || *op != "put" || !jsonl_fields(doc, &put).is_ok()) continue;
    (*fills)[fill_identity(put.ns, put.key)] = PutFill{put.size, put.cost_ms};
  }
  if (fills->empty()) return std::shared_ptr<const PutFills>();
  return std::shared_ptr<const PutFills>(std::move(fills));
}

}  // namespace

std::string_view trace_format_name(TraceFormat format) {
  for (const auto& [f, name] : kFormatNames) {
    if (f == format) return name;
  }
  return "?";
}

Result<TraceFormat> parse_trace_format(std::string_view name) {
  std::string known;
  for (const auto& [f, n] : kFormatNames) {
    if (n == name) return f;
    known += known.empty() ? "" : ", ";
    known += n;
  }
  return Status::invalid_argument("unknown trace format '" + std::string(name) +
                                  "' (expected one of " + known + ")");
}

uint64_t fill_identity(std::string_view ns, uint64_t key) {
  // A namespace's hash mixed with the key: distinct for the few lanes a log has.
  return xxh3_64(ns) * 0x9E3779B97F4A7C15ULL ^ key;
}

uint64_t key_of_token(std::string_view token) {
  uint64_t key = 0;
  return parse_u64(token, &key) ? key : xxh3_64(token);
}

TraceReader::TraceReader(LineReader lines, TraceFormat format, Compression compression,
                         uint64_t file_bytes)
    : lines_(std::move(lines)),
      format_(format),
      compression_(compression),
      file_bytes_(file_bytes) {}

Status TraceReader::bad_line(const std::string& what) const {
  return Status::invalid_argument(lines_.name() + ":" + std::to_string(lines_.line_number()) +
                                  ": " + what);
}

Status TraceReader::parse_line(std::string_view line) {
  pending_ = Access{};
  pending_count_ = 0;
  Status s;
  switch (format_) {
    case TraceFormat::kAuto:
    case TraceFormat::kKeys:
      s = parse_keys(line, &pending_, &pending_count_);
      break;
    case TraceFormat::kLirs:
      s = parse_lirs(line, &pending_, &pending_count_);
      break;
    case TraceFormat::kCsv: {
      const bool first = !header_checked_ && !is_skipped(trim(line));
      if (first) header_checked_ = true;
      s = parse_csv(line, first, &pending_, &pending_count_);
      break;
    }
    case TraceFormat::kJsonl:
      s = parse_jsonl(line, fills_.get(), &pending_, &pending_count_);
      break;
    case TraceFormat::kArc:
      s = parse_arc(line, &pending_, &pending_count_);
      break;
    case TraceFormat::kPenalties:
      s = parse_penalties(line, &pending_, &pending_count_);
      break;
  }
  if (!s.is_ok()) return bad_line(s.message());
  return Status::ok();
}

Result<bool> TraceReader::next(Access* out) {
  while (pending_count_ == 0) {
    std::string_view line;
    Result<bool> more = lines_.next(&line);
    if (!more.is_ok()) return more.status();
    if (!*more) return false;
    PLANCACHE_RETURN_IF_ERROR(parse_line(line));
  }
  *out = pending_;
  ++pending_.key;  // the next access of an ARC run
  --pending_count_;
  return true;
}

Result<std::unique_ptr<TraceReader>> open_trace(const std::string& path, TraceFormat format) {
  if (format == TraceFormat::kAuto) {
    Result<TraceFormat> detected = detect_format(path);
    if (!detected.is_ok()) return detected.status();
    format = *detected;
  }
  std::shared_ptr<const PutFills> fills;
  if (format == TraceFormat::kJsonl) {
    Result<std::shared_ptr<const PutFills>> collected = collect_put_fills(path);
    if (!collected.is_ok()) return collected.status();
    fills = std::move(collected).value();
  }
  OpenedSource opened;
  Result<LineReader> lines = open_lines(path, &opened);
  if (!lines.is_ok()) return lines.status();
  auto reader = std::make_unique<TraceReader>(std::move(lines).value(), format,
                                              opened.compression, opened.file_bytes);
  reader->set_fills(std::move(fills));
  return reader;
}

}  // namespace plancache::internal
