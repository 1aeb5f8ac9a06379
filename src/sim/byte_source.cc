// Plain, gzip and xz byte sources over a file descriptor, and the line
// splitter on top of them.
//
// Each source reads the file in kInputChunk pieces into its own buffer and
// decompresses into the caller's; consumed() is the file offset minus what
// still waits in that buffer, so a progress bar over the compressed size
// moves evenly. gzip: zlib's inflate with automatic header detection, reset
// after each member so concatenated members read as one file; bytes after
// the last member that do not start another one are ignored, as `gzip -dc`
// does. xz: liblzma's stream decoder with LZMA_CONCATENATED.
//
// The line splitter keeps one buffer of kMaxLineBytes plus a read chunk:
// a line is a view into it, and the unread tail moves to the front only
// when no newline is left, so every byte is copied at most once.
#include "sim/byte_source.h"

#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace plancache::internal {
namespace {

constexpr size_t kInputChunk = 256 << 10;

// A file descriptor closed on destruction.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// read(2) that retries on EINTR; -1 with errno on failure.
ssize_t read_some(int fd, void* buffer, size_t capacity) {
  for (;;) {
    const ssize_t n = ::read(fd, buffer, capacity);
    if (n >= 0 || errno != EINTR) return n;
  }
}

Status read_error(const std::string& name) {
  return Status::invalid_argument("cannot read trace '" + name + "': " + std::strerror(errno));
}

class PlainSource final : public ByteSource {
 public:
  PlainSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  Result<size_t> read(char* buffer, size_t capacity) override {
    const ssize_t n = read_some(fd_.get(), buffer, capacity);
    if (n < 0) return read_error(name_);
    consumed_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }
  uint64_t consumed() const override { return consumed_; }

 private:
  Fd fd_;
  std::string name_;
  uint64_t consumed_ = 0;
};

// The input side every decompressor shares: a chunk of the file at a time.
class CompressedInput {
 public:
  CompressedInput(int fd, std::string name) : fd_(fd), name_(std::move(name)), in_(kInputChunk) {}

  // Reads the next chunk; returns its size (0 at the end of the file).
  Result<size_t> refill() {
    const ssize_t n = read_some(fd_.get(), in_.data(), in_.size());
    if (n < 0) return read_error(name_);
    file_read_ += static_cast<uint64_t>(n);
    eof_ = n == 0;
    return static_cast<size_t>(n);
  }
  unsigned char* data() { return in_.data(); }
  bool eof() const { return eof_; }
  uint64_t file_read() const { return file_read_; }
  const std::string& name() const { return name_; }

 private:
  Fd fd_;
  std::string name_;
  std::vector<unsigned char> in_;
  uint64_t file_read_ = 0;
  bool eof_ = false;
};

class GzipSource final : public ByteSource {
 public:
  GzipSource(int fd, std::string name) : input_(fd, std::move(name)) {
    // 15 + 32: a 32 KiB window, gzip or zlib header detected automatically.
    ok_ = inflateInit2(&z_, 15 + 32) == Z_OK;
  }
  ~GzipSource() override { inflateEnd(&z_); }

  Result<size_t> read(char* buffer, size_t capacity) override {
    if (!ok_) return Status::internal("zlib: inflateInit2 failed");
    z_.next_out = reinterpret_cast<unsigned char*>(buffer);
    z_.avail_out = static_cast<uInt>(capacity);
    while (z_.avail_out > 0 && !done_) {
      if (z_.avail_in == 0 && !input_.eof()) {
        Result<size_t> n = input_.refill();
        if (!n.is_ok()) return n.status();
        z_.next_in = input_.data();
        z_.avail_in = static_cast<uInt>(*n);
      }
      if (!in_member_) {
        if (!at_next_member()) {
          done_ = true;
          break;
        }
        in_member_ = true;
      }
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&z_);
      } else if (rc == Z_BUF_ERROR) {  // no progress: more input needed
        if (input_.eof() && z_.avail_in == 0) return corrupt("unexpected end of file");
      } else if (rc != Z_OK) {
        return corrupt(z_.msg != nullptr ? z_.msg : "inflate failed");
      }
    }
    return capacity - z_.avail_out;
  }
  uint64_t consumed() const override { return input_.file_read() - z_.avail_in; }

 private:
  // Between members: true when the waiting input starts another member
  // (the first one does: the file was sniffed as gzip).
  bool at_next_member() const { return z_.avail_in > 0 && z_.next_in[0] == 0x1f; }
  Status corrupt(const std::string& what) const {
    return Status::invalid_argument("trace '" + input_.name() + "': corrupt gzip data: " + what);
  }

  CompressedInput input_;
  z_stream z_{};
  bool ok_ = false;
  bool in_member_ = false;
  bool done_ = false;
};

class XzSource final : public ByteSource {
 public:
  XzSource(int fd, std::string name) : input_(fd, std::move(name)) {
    ok_ = lzma_stream_decoder(&s_, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
  }
  ~XzSource() override { lzma_end(&s_); }

  Result<size_t> read(char* buffer, size_t capacity) override {
    if (!ok_) return Status::internal("liblzma: lzma_stream_decoder failed");
    s_.next_out = reinterpret_cast<uint8_t*>(buffer);
    s_.avail_out = capacity;
    while (s_.avail_out > 0 && !done_) {
      if (s_.avail_in == 0 && !input_.eof()) {
        Result<size_t> n = input_.refill();
        if (!n.is_ok()) return n.status();
        s_.next_in = input_.data();
        s_.avail_in = *n;
      }
      const lzma_ret rc = lzma_code(&s_, input_.eof() ? LZMA_FINISH : LZMA_RUN);
      if (rc == LZMA_STREAM_END) {
        done_ = true;
      } else if (rc != LZMA_OK) {
        return Status::invalid_argument("trace '" + input_.name() +
                                        "': corrupt xz data: " + describe(rc));
      }
    }
    return capacity - s_.avail_out;
  }
  uint64_t consumed() const override { return input_.file_read() - s_.avail_in; }

 private:
  static std::string describe(lzma_ret rc) {
    switch (rc) {
      case LZMA_BUF_ERROR:
        return "unexpected end of file";
      case LZMA_FORMAT_ERROR:
        return "not in the xz format";
      case LZMA_OPTIONS_ERROR:
        return "unsupported options";
      case LZMA_DATA_ERROR:
        return "data error";
      case LZMA_MEM_ERROR:
        return "out of memory";
      default:
        return "liblzma error " + std::to_string(static_cast<int>(rc));
    }
  }

  CompressedInput input_;
  lzma_stream s_ = LZMA_STREAM_INIT;
  bool ok_ = false;
  bool done_ = false;
};

Compression sniff(int fd) {
  unsigned char magic[6] = {};
  const ssize_t n = ::pread(fd, magic, sizeof magic, 0);
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return Compression::kGzip;
  static constexpr unsigned char kXz[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
  if (n == 6 && std::memcmp(magic, kXz, 6) == 0) return Compression::kXz;
  return Compression::kNone;
}

}  // namespace

std::string_view compression_name(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kXz:
      return "xz";
  }
  return "?";
}

Result<OpenedSource> open_byte_source(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::invalid_argument("cannot open trace '" + path + "': " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::invalid_argument("cannot open trace '" + path + "': " +
                                    (S_ISDIR(st.st_mode) ? "it is a directory" : "fstat failed"));
  }
  OpenedSource opened;
  opened.file_bytes = static_cast<uint64_t>(st.st_size);
  opened.compression = sniff(fd);
  switch (opened.compression) {
    case Compression::kGzip:
      opened.source = std::make_unique<GzipSource>(fd, path);
      break;
    case Compression::kXz:
      opened.source = std::make_unique<XzSource>(fd, path);
      break;
    case Compression::kNone:
      opened.source = std::make_unique<PlainSource>(fd, path);
      break;
  }
  return opened;
}

// --- LineReader ----------------------------------------------------------------

LineReader::LineReader(std::unique_ptr<ByteSource> source, std::string name)
    : source_(std::move(source)), name_(std::move(name)), buffer_(kMaxLineBytes + kInputChunk) {}

Status LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  Result<size_t> n = source_->read(buffer_.data() + end_, buffer_.size() - end_);
  if (!n.is_ok()) return n.status();
  if (*n == 0) eof_ = true;
  end_ += *n;
  return Status::ok();
}

Result<bool> LineReader::next(std::string_view* line) {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const void* newline = std::memchr(start, '\n', end_ - begin_);
    size_t length = 0;
    if (newline != nullptr) {
      length = static_cast<size_t>(static_cast<const char*>(newline) - start);
      begin_ += length + 1;
    } else if (eof_) {
      if (begin_ == end_) return false;
      length = end_ - begin_;  // a last line without a newline
      begin_ = end_;
    } else if (end_ - begin_ >= kMaxLineBytes) {
      return Status::invalid_argument(name_ + ":" + std::to_string(line_number_ + 1) +
                                      ": line longer than " + std::to_string(kMaxLineBytes) +
                                      " bytes");
    } else {
      PLANCACHE_RETURN_IF_ERROR(fill());
      continue;
    }
    if (length > kMaxLineBytes) {
      return Status::invalid_argument(name_ + ":" + std::to_string(line_number_ + 1) +
                                      ": line longer than " + std::to_string(kMaxLineBytes) +
                                      " bytes");
    }
    if (length > 0 && start[length - 1] == '\r') --length;
    *line = std::string_view(start, length);
    if (++line_number_ == 1 && line->substr(0, 3) == "\xEF\xBB\xBF") line->remove_prefix(3);
    return true;
  }
}

}  // namespace plancache::internal
