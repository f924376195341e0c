#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace squeezenet {

// Whole file into memory; refuses files larger than `max_bytes` so a hostile input cannot exhaust memory.
std::string read_file(const std::string& path, uint64_t max_bytes = uint64_t{1} << 31);

// Temporary file in the same folder, written, fsync'ed, renamed over `path`, folder fsync'ed: a reader
// sees the old file or the new one, never a torn one, even when the process is killed half-way.
// The temporary is named ".<name>.tmp-<pid>-XXXXXX", after the process writing it.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Removes from `dir` the temporaries write_file_atomic left when its process was killed mid-write: regular files
// named exactly as it names them whose process is gone. Anything else, a live writer's temporary included, stays.
// (A writer on another machine sharing the folder would look gone: run one writer per folder.) Returns how many
// it removed.
int remove_stale_temporaries(const std::string& dir);

bool is_directory(const std::string& path);

// Bounds-checked little-endian reader over a byte buffer: every read that would run past the end throws
// Error naming `what` (the file), so parsers cannot read out of bounds on truncated input.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {}
  std::string_view take(uint64_t n, const char* field);
  template <class T>
  T read(const char* field);
  uint64_t offset() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  const std::string& what() const { return what_; }

 private:
  std::string_view bytes_;
  std::string what_;
  uint64_t pos_ = 0;
};

float half_to_float(uint16_t h);
// Round to nearest even; out-of-range values become infinity, as in IEEE conversion.
uint16_t float_to_half(float f);

}  // namespace squeezenet

#include <cstring>
template <class T>
T squeezenet::ByteReader::read(const char* field) {
  T v;
  std::memcpy(&v, take(sizeof(T), field).data(), sizeof(T));
  return v;
}
