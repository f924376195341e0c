// libFuzzer target for the zip container alone (torch.save's, read through libzip): any bytes must list and
// read entries within the caps or be refused with an Error, whatever sizes, offsets and names the central
// directory claims. A small cap per entry lets the total-size and compressed-size caps trip as well.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/zip_archive.h"
#include "refusal.h"
#include "squeezenet/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    squeezenet::ZipReader zip(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.zip");
    for (const std::string& name : zip.names())
      if (zip.contains(name)) zip.read(name, uint64_t{1} << 20);
  } catch (const squeezenet::Error& e) {
    check_refusal(e);
  }
  return 0;
}
