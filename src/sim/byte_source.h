// ByteSource and LineReader: the bytes of a trace file, decompressed on the
// fly, and the lines they make.
//
// open_byte_source() looks at the file's first bytes, not at its name: gzip
// (1f 8b) is read through zlib, xz (fd 37 7a 58 5a 00) through liblzma,
// anything else as it is. Concatenated gzip members and xz streams are read
// as one (what `gzip -dc` / `xz -dc` print). Nothing is held but a fixed
// buffer, so a file of any size is read in bounded memory.
//
// Thread-safety: none; one reader per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/status.h"

namespace plancache::internal {

enum class Compression { kNone, kGzip, kXz };

// "none", "gzip", "xz".
std::string_view compression_name(Compression compression);

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to `capacity` decompressed bytes into `buffer`; 0 at the end.
  // Errors: invalid_argument naming the file ("corrupt gzip data", ...).
  virtual Result<size_t> read(char* buffer, size_t capacity) = 0;
  // Bytes of the file itself (compressed) consumed so far, for progress.
  virtual uint64_t consumed() const = 0;
};

struct OpenedSource {
  std::unique_ptr<ByteSource> source;
  Compression compression = Compression::kNone;
  uint64_t file_bytes = 0;  // size of the file on disk
};

// Opens `path`. Errors: invalid_argument "cannot open trace 'PATH': reason"
// (missing, a directory, unreadable).
Result<OpenedSource> open_byte_source(const std::string& path);

// The lines of a ByteSource, without their "\n" or "\r\n"; a UTF-8 byte-order
// mark at the start of the first line is dropped. A line longer than
// kMaxLineBytes is an error naming its number.
class LineReader {
 public:
  static constexpr size_t kMaxLineBytes = 1 << 20;

  LineReader(std::unique_ptr<ByteSource> source, std::string name);

  // The next line into *line (valid until the next call); false at the end.
  Result<bool> next(std::string_view* line);
  // 1-based number of the line last returned (0 before the first).
  uint64_t line_number() const { return line_number_; }
  uint64_t consumed() const { return source_->consumed(); }
  const std::string& name() const { return name_; }

 private:
  Status fill();

  std::unique_ptr<ByteSource> source_;
  std::string name_;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // first unread byte in buffer_
  size_t end_ = 0;    // one past the last valid byte in buffer_
  bool eof_ = false;
  uint64_t line_number_ = 0;
};

}  // namespace plancache::internal
