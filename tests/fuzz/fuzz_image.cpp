// libFuzzer target for image decoding: any bytes must give a well-formed image or an Error, never a crash,
// a leak or a read out of bounds (libjpeg-turbo and libpng report errors by longjmp; this checks the unwinding).
// The decoded image also goes through both resize presets, which meet odd sizes (1xN, Nx1) this way.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "refusal.h"
#include "squeezenet/error.h"
#include "squeezenet/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Small limits keep each run fast; the size checks are exercised all the same.
  static const squeezenet::DecodeLimits limits{2048, 1 << 20};
  try {
    const squeezenet::Image image = squeezenet::decode_image_bytes(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz input", limits);
    if (image.rgb.size() != 3 * static_cast<size_t>(image.width) * static_cast<size_t>(image.height)) __builtin_trap();
    squeezenet::resize_and_crop(image, squeezenet::Preset::torchvision);
    squeezenet::resize_and_crop(image, squeezenet::Preset::caffe);
  } catch (const squeezenet::Error& e) {
    check_refusal(e);
  }
  return 0;
}
