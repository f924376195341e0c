#pragma once
// Per-format decoders behind decode_image_bytes, which picks one from the file's magic bytes.
#include <cstdint>
#include <string>
#include <string_view>

#include "squeezenet/image.h"

namespace squeezenet {

Image decode_jpeg(std::string_view bytes, const std::string& name, const DecodeLimits& limits);
Image decode_png(std::string_view bytes, const std::string& name, const DecodeLimits& limits);

// Throws unless the header's size fits `limits`; decoders call it before allocating any pixel memory.
void check_image_size(int64_t width, int64_t height, const std::string& name, const DecodeLimits& limits);

}  // namespace squeezenet
