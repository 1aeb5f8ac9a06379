// Cache access traces for `plancache simulate`: the formats, the Access they
// decode to, and a streaming reader (bounded memory, any file size; gzip and
// xz files are read directly, recognised by their first bytes).
//
// Formats (docs/cli.md, "plancache simulate", has examples):
//   keys       one key per line: a decimal integer, or any other token, which
//              is hashed (XXH3-64); blank lines and lines starting with '#'
//              are skipped
//   csv        key[,size[,cost_ms]]: key as in `keys`; an optional header
//              line whose first field is "key"; '#' comments
//   jsonl      {"key": int|string, "size"?: int, "cost_ms"?: number,
//               "t"?: ms, "ns"?: namespace, "op"?: "get"} per line, other
//              fields ignored; a line whose "op" is not "get" (a put) is
//              not a request; what the server's access log writes
//   arc        start_block block_count ignored request_no: block_count
//              accesses to start_block, start_block+1, ... (ARC paper traces)
//   penalties  op 0xADDRESS size hit_penalty miss_penalty: key = address,
//              size = size, cost_ms = miss_penalty (Caffeine's simulator)
//   lirs       one integer key per line; "*" marker lines and blank lines
//              are skipped (the LIRS paper's traces)
//
// Detection (kAuto): by the file name, without .gz / .xz: "arc-*",
// "penalties-*", "lirs-*", "*.csv", "*.jsonl"; otherwise by the first line
// that is neither blank nor a '#' comment: '{' -> jsonl; five fields whose
// second starts with 0x -> penalties; a comma -> csv; four integers -> arc;
// anything else -> keys.
//
// Thread-safety: a TraceReader is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <string_view>

#include "plancache/status.h"
#include "sim/byte_source.h"

namespace plancache::internal {

enum class TraceFormat { kAuto, kKeys, kCsv, kJsonl, kArc, kPenalties, kLirs };

// "auto", "keys", "csv", "jsonl", "arc", "penalties", "lirs".
std::string_view trace_format_name(TraceFormat format);
// The inverse. Errors: invalid_argument listing the names.
Result<TraceFormat> parse_trace_format(std::string_view name);

// One request of a trace.
struct Access {
  uint64_t key = 0;
  uint64_t size = 1;     // value bytes; 1 when the format has no sizes
  uint32_t cost_ms = 0;  // what a miss costs (planner time); 0 when unknown
  int64_t time_ms = -1;  // when the request was made; -1 when unknown
  std::string ns = {};   // namespace; empty when the format has none
};

// The decoded key of a token: the integer when `token` is a decimal integer
// that fits 64 bits, else XXH3-64 of its bytes.
uint64_t key_of_token(std::string_view token);

// What the put lines of a JSONL access log say about each key: the size
// and planner cost of the value stored (the last put wins). A get that
// missed has neither -- the server learns them only when the plan is put
// -- so the reader fills them in from here.
struct PutFill {
  uint64_t size = 1;
  uint32_t cost_ms = 0;
};
using PutFills = std::unordered_map<uint64_t, PutFill>;  // by fill_identity()

// The key of an access within its namespace, as PutFills is keyed.
uint64_t fill_identity(std::string_view ns, uint64_t key);

// Streams the accesses of one trace file.
class TraceReader {
 public:
  TraceReader(LineReader lines, TraceFormat format, Compression compression, uint64_t file_bytes);

  // JSONL: gets without a "size" (misses) take the size and cost from
  // `fills` (null: left as they are).
  void set_fills(std::shared_ptr<const PutFills> fills) { fills_ = std::move(fills); }

  // The next access into *out; false at the end of the trace.
  // Errors: invalid_argument "FILE:LINE: what is wrong" for a bad line (the
  // reader is then unusable), or naming the file for a read failure.
  Result<bool> next(Access* out);

  // Bytes of the file (compressed, if it is) read so far, and its size: what
  // a progress bar shows.
  uint64_t bytes_read() const { return lines_.consumed(); }
  // Lines read so far (every line: requests, puts, blank ones).
  uint64_t lines_read() const { return lines_.line_number(); }
  uint64_t total_bytes() const { return file_bytes_; }
  // The format being read (never kAuto) and the file's compression.
  TraceFormat format() const { return format_; }
  Compression compression() const { return compression_; }

 private:
  Status parse_line(std::string_view line);
  Status bad_line(const std::string& what) const;

  LineReader lines_;
  TraceFormat format_;
  Compression compression_;
  uint64_t file_bytes_;
  bool header_checked_ = false;  // csv: the first data line was looked at
  std::shared_ptr<const PutFills> fills_;  // JSONL: sizes and costs from put lines
  Access pending_;               // decoded from the current line
  uint64_t pending_count_ = 0;   // accesses left: pending_.key, key+1, ...
};

// Opens `path` in `format` (kAuto: detected as above). A JSONL file is read
// once more first when it has put lines (the server's access log), to fill
// in the misses' sizes and costs (PutFills).
// Errors: invalid_argument naming the file (missing, unreadable, a bad first
// line when detecting).
Result<std::unique_ptr<TraceReader>> open_trace(const std::string& path,
                                                TraceFormat format = TraceFormat::kAuto);

}  // namespace plancache::internal
