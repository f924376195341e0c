// JPEG through TurboJPEG. PIL decodes with the same libjpeg-turbo and its defaults (islow DCT, fancy
// upsampling), which are TurboJPEG's defaults too, so the pixels agree bit for bit.
#include <turbojpeg.h>

#include <cstring>
#include <memory>

#include "image/decode.h"
#include "squeezenet/error.h"

namespace squeezenet {
namespace {

struct TjDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;

// libjpeg's JWRN_JPEG_EOF: the data ended before the image did. PIL refuses such files ("image file is
// truncated") but accepts every other libjpeg warning (corrupt entropy data, extraneous bytes), and so do we.
constexpr const char* kTruncatedWarning = "Premature end of JPEG file";

// PIL reads CMYK JPEGs as Adobe-inverted ("CMYK;I") and converts with nk - nk*c/255 (its cmyk2rgb, with
// MULDIV255 rounding). In libjpeg's raw values: nk = k, c = 255 - c_raw. In place: pixel i moves from 4i to 3i.
void cmyk_to_rgb_in_place(std::vector<uint8_t>& px, std::size_t pixels) {
  auto muldiv255 = [](int a, int b) {
    const int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (std::size_t i = 0; i < pixels; ++i) {
    const uint8_t* in = &px[4 * i];
    const int nk = in[3];
    uint8_t rgb[3];
    for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>(nk - muldiv255(255 - in[c], nk));
    std::memcpy(&px[3 * i], rgb, 3);
  }
  px.resize(3 * pixels);
  px.shrink_to_fit();
}

}  // namespace

Image decode_jpeg(std::string_view bytes, const std::string& name, const DecodeLimits& limits) {
  TjHandle tj(tjInitDecompress());
  if (!tj) throw Error(name + ": cannot start the JPEG decoder (" + tjGetErrorStr2(nullptr) + ")");
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());

  // libjpeg-turbo 2.1 fails the header call for chroma subsamplings it has no name for (e.g. luma 3x1), after
  // filling in the size and colourspace; the full decode handles those images (checked against PIL), so only
  // missing values are fatal.
  int width = 0, height = 0, subsampling = -1, colorspace = -1;
  tjDecompressHeader3(tj.get(), data, size, &width, &height, &subsampling, &colorspace);
  if (width <= 0 || height <= 0 || colorspace < 0)
    throw Error(name + ": not a readable JPEG (" + tjGetErrorStr2(tj.get()) + ")");
  check_image_size(width, height, name, limits);

  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int channels = cmyk ? 4 : 3;
  Image image{width, height, {}};
  const auto pixels = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  image.rgb.resize(pixels * static_cast<std::size_t>(channels));
  // LIMITSCANS caps progressive scans at 500, so a crafted file cannot keep the decoder busy for minutes.
  const int flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS;
  const int pixel_format = cmyk ? TJPF_CMYK : TJPF_RGB;
  if (tjDecompress2(tj.get(), data, size, image.rgb.data(), width, 0, height, pixel_format, flags) != 0) {
    const std::string message = tjGetErrorStr2(tj.get());
    if (tjGetErrorCode(tj.get()) == TJERR_FATAL) throw Error(name + ": JPEG decoding failed (" + message + ")");
    if (message == kTruncatedWarning) throw Error(name + ": JPEG file is truncated (" + message + ")");
  }
  if (cmyk) cmyk_to_rgb_in_place(image.rgb, pixels);
  return image;
}

}  // namespace squeezenet
