#pragma once
// Zip archives in memory through libzip, as torch.save's container needs them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct zip;

namespace squeezenet {

// Reads entries of an archive held in memory. A zip's sizes are claims: every read is checked against the
// caller's cap before anything is allocated, and against what the data really unpacks to.
class ZipReader {
 public:
  // `what` names the file in every error message.
  ZipReader(std::string_view bytes, std::string what);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;

  // The entry's bytes. Refused when it claims more than `max_bytes`, when `expected_bytes` is given and
  // differs from its size, and when all reads together pass kMaxTotalBytes, or kMaxCompressedBytes for
  // compressed entries (a small deflated file may claim gigabytes in many entries).
  std::string read(const std::string& name, uint64_t max_bytes,
                   std::optional<uint64_t> expected_bytes = std::nullopt);

  static constexpr uint64_t kMaxTotalBytes = uint64_t{2} << 30;
  // Compressed entries, all together, get a lower cap: torch stores its entries uncompressed, so only a
  // re-zipped file has them, and what they unpack to is not bounded by the file's size.
  static constexpr uint64_t kMaxCompressedBytes = uint64_t{256} << 20;

 private:
  zip* zip_ = nullptr;
  std::string what_;
  uint64_t total_read_ = 0;
  uint64_t compressed_read_ = 0;
};

struct ZipEntry {
  std::string name;
  std::string_view data;
};

// An archive of uncompressed entries, in the given order, each one's data starting at a multiple of
// `alignment` bytes from the start of the file (padding in a local extra field, as torch.save does),
// with a fixed timestamp so that the same entries always give the same bytes.
std::string write_zip(const std::vector<ZipEntry>& entries, std::size_t alignment);

}  // namespace squeezenet
