#include "image/decode.h"

#include <cstring>

#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {
namespace {

// Image files can be large, but not larger than the biggest pixel buffer we would accept.
constexpr uint64_t kMaxImageFileBytes = uint64_t{1} << 30;

bool starts_with(std::string_view bytes, std::string_view magic) {
  return bytes.size() >= magic.size() && std::memcmp(bytes.data(), magic.data(), magic.size()) == 0;
}

// Names the formats people most often feed by mistake, so the message says what the file is.
std::string format_of(std::string_view bytes) {
  if (starts_with(bytes, "GIF87a") || starts_with(bytes, "GIF89a")) return "GIF";
  if (starts_with(bytes, "BM")) return "BMP";
  if (starts_with(bytes, "RIFF") && bytes.size() >= 12 && bytes.substr(8, 4) == "WEBP") return "WebP";
  if (starts_with(bytes, std::string_view("II*\0", 4)) || starts_with(bytes, std::string_view("MM\0*", 4)))
    return "TIFF";
  return "unknown";
}

}  // namespace

void check_image_size(int64_t width, int64_t height, const std::string& name, const DecodeLimits& limits) {
  if (width < 1 || height < 1)
    throw Error(name + ": image header gives an empty size " + std::to_string(width) + "x" + std::to_string(height));
  if (width > limits.max_side || height > limits.max_side || width * height > limits.max_pixels)
    throw Error(name + ": image is " + std::to_string(width) + "x" + std::to_string(height) +
                ", larger than allowed (at most " + std::to_string(limits.max_side) + " pixels a side and " +
                std::to_string(limits.max_pixels) + " pixels in all)");
}

Image decode_image_bytes(std::string_view bytes, const std::string& name, const DecodeLimits& limits) {
  if (bytes.empty()) throw Error(name + ": empty file, expected a JPEG or PNG image");
  // The same signatures PIL's plugins accept.
  if (starts_with(bytes, "\xFF\xD8\xFF")) return decode_jpeg(bytes, name, limits);
  if (starts_with(bytes, "\x89PNG\r\n\x1A\n")) return decode_png(bytes, name, limits);
  throw Error(name + ": not a JPEG or PNG file (format: " + format_of(bytes) + "); convert it to JPEG or PNG first");
}

Image decode_image(const std::string& path, const DecodeLimits& limits) {
  return decode_image_bytes(read_file(path, kMaxImageFileBytes), path, limits);
}

}  // namespace squeezenet
