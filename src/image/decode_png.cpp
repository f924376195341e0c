// PNG through libpng, converted to RGB the way PIL's PNG plugin and convert("RGB") do it (checked against
// Pillow on every colour type and bit depth by tests/fixtures/make_image_fixtures.py):
//   grey 1/2/4-bit   scaled to 0..255 (x255, x85, x17)      grey 16-bit   clipped to 255 (PIL mode "I")
//   16-bit colour    high byte of each sample               alpha, tRNS   ignored (no compositing)
//   palette          PLTE entries; indices past its end read as grey (i, i, i), PIL's default palette ramp
//   chunk CRCs       not checked on critical chunks (PIL does not check IDAT's)
//
// libpng reports errors by longjmp. The functions that call libpng hold no objects with destructors, so the
// jump skips nothing; everything that owns memory lives in decode_png, which only sees a return value.
#include <png.h>

#include <algorithm>
#include <array>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "image/decode.h"
#include "squeezenet/error.h"

namespace squeezenet {
namespace {

struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::string_view bytes;
  std::size_t pos = 0;
  char message[200] = "";

  ~PngReader() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

void on_error(png_structp png, png_const_charp message) {
  auto* reader = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(reader->message, sizeof reader->message, "%s", message);
  png_longjmp(png, 1);
}

// Warnings (bad CRC on an ancillary chunk, odd iCCP profiles) do not change the pixels; PIL ignores them too.
void on_warning(png_structp, png_const_charp) {}

void on_read(png_structp png, png_bytep out, png_size_t n) {
  PngReader& reader = *static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > reader.bytes.size() - reader.pos) png_error(png, "file is truncated");
  std::memcpy(out, reader.bytes.data() + reader.pos, n);
  reader.pos += n;
}

// Pixel layout of the rows libpng hands back (after png_set_packing: one byte per sample below 8 bits).
struct RowFormat {
  int color_type = 0;
  int bit_depth = 0;
  int channels = 0;
  std::array<std::array<uint8_t, 3>, 256> palette{};
};

// One decoded row of `count` pixels into RGB, pixel i landing at out[3 * (i << col_shift)].
void row_to_rgb(const RowFormat& f, const png_byte* row, int count, uint8_t* out, int col_shift) {
  const int bytes_per_sample = f.bit_depth == 16 ? 2 : 1;
  const int stride = f.channels * bytes_per_sample;
  for (int i = 0; i < count; ++i, row += stride) {
    uint8_t* px = out + 3 * (static_cast<std::ptrdiff_t>(i) << col_shift);
    if (f.color_type == PNG_COLOR_TYPE_PALETTE) {
      std::memcpy(px, f.palette[row[0]].data(), 3);
    } else if (f.color_type & PNG_COLOR_MASK_COLOR) {
      for (int c = 0; c < 3; ++c) px[c] = row[c * bytes_per_sample];  // the high byte when 16-bit
    } else {
      int grey = row[0];
      if (f.bit_depth == 16 && f.color_type == PNG_COLOR_TYPE_GRAY)
        grey = std::min((row[0] << 8) | row[1], 255);
      else if (f.bit_depth < 8)
        grey *= 255 / ((1 << f.bit_depth) - 1);
      px[0] = px[1] = px[2] = static_cast<uint8_t>(grey);
    }
  }
}

bool read_header(PngReader& r, RowFormat& format, png_uint_32& width, png_uint_32& height, int& interlace) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_set_read_fn(r.png, &r, on_read);
  // PIL never checks the CRC of IDAT data (only of the chunks it parses in Python), so it decodes PNGs whose
  // pixel data has a wrong checksum; libpng would refuse them. Damaged data is still caught by zlib.
  png_set_crc_action(r.png, PNG_CRC_QUIET_USE, PNG_CRC_WARN_DISCARD);
  png_read_info(r.png, r.info);
  int compression = 0, filter = 0;
  png_get_IHDR(r.png, r.info, &width, &height, &format.bit_depth, &format.color_type, &interlace, &compression,
               &filter);
  // Deinterlacing is ours (row_to_rgb scatters each Adam7 pass), so libpng never buffers a whole image.
  if (format.bit_depth < 8) png_set_packing(r.png);
  png_read_update_info(r.png, r.info);
  format.channels = png_get_channels(r.png, r.info);
  if (format.color_type == PNG_COLOR_TYPE_PALETTE) {
    for (int i = 0; i < 256; ++i) format.palette[i].fill(static_cast<uint8_t>(i));
    png_colorp plte = nullptr;
    int entries = 0;
    if (png_get_PLTE(r.png, r.info, &plte, &entries) & PNG_INFO_PLTE)
      for (int i = 0; i < std::min(entries, 256); ++i) format.palette[i] = {plte[i].red, plte[i].green, plte[i].blue};
  }
  return true;
}

bool read_pixels(PngReader& r, const RowFormat& format, int interlace, Image& image, png_bytep row) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  const int passes = interlace == PNG_INTERLACE_ADAM7 ? 7 : 1;
  const auto width = static_cast<png_uint_32>(image.width), height = static_cast<png_uint_32>(image.height);
  for (int pass = 0; pass < passes; ++pass) {
    const bool adam7 = passes == 7;
    const png_uint_32 rows = adam7 ? PNG_PASS_ROWS(height, pass) : height;
    const png_uint_32 cols = adam7 ? PNG_PASS_COLS(width, pass) : width;
    if (rows == 0 || cols == 0) continue;  // libpng skips empty passes as well
    const int x0 = adam7 ? PNG_PASS_START_COL(pass) : 0, y0 = adam7 ? PNG_PASS_START_ROW(pass) : 0;
    const int col_shift = adam7 ? PNG_PASS_COL_SHIFT(pass) : 0, row_shift = adam7 ? PNG_PASS_ROW_SHIFT(pass) : 0;
    for (png_uint_32 y = 0; y < rows; ++y) {
      png_read_row(r.png, row, nullptr);
      const std::size_t out_y = y0 + (static_cast<std::size_t>(y) << row_shift);
      row_to_rgb(format, row, static_cast<int>(cols), &image.rgb[3 * (out_y * width + x0)], col_shift);
    }
  }
  return true;
}

// IHDR must come first (libpng enforces it), so the size can be checked before libpng reads any further.
void check_header_size(std::string_view bytes, const std::string& name, const DecodeLimits& limits) {
  if (bytes.size() < 24 || bytes.substr(12, 4) != "IHDR") return;  // libpng will report what is wrong
  auto be32 = [&](std::size_t at) {
    uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(bytes[at + i]);
    return v;
  };
  check_image_size(be32(16), be32(20), name, limits);
}

}  // namespace

Image decode_png(std::string_view bytes, const std::string& name, const DecodeLimits& limits) {
  check_header_size(bytes, name, limits);
  PngReader r;
  r.bytes = bytes;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, on_error, on_warning);
  if (r.png) r.info = png_create_info_struct(r.png);
  if (!r.png || !r.info) throw Error(name + ": cannot start the PNG decoder (out of memory)");

  RowFormat format;
  png_uint_32 width = 0, height = 0;
  int interlace = 0;
  if (!read_header(r, format, width, height, interlace)) throw Error(name + ": not a readable PNG (" + r.message + ")");
  check_image_size(width, height, name, limits);

  Image image{static_cast<int>(width), static_cast<int>(height), {}};
  image.rgb.resize(3 * static_cast<std::size_t>(width) * height);
  std::vector<png_byte> row(png_get_rowbytes(r.png, r.info));
  if (!read_pixels(r, format, interlace, image, row.data()))
    throw Error(name + ": PNG decoding failed (" + r.message + ")");
  return image;
}

}  // namespace squeezenet
