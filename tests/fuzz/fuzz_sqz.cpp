// libFuzzer: the .sqz reader must reject, never crash, hang or allocate what the input merely claims.
// The fuzzer's bytes get a valid SHA-256 appended in place of their last 32, so that mutations reach the parser
// behind the checksum instead of all failing it.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/sqz.h"
#include "squeezenet/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= 32) {
    unsigned int n = 0;
    EVP_Digest(bytes.data(), bytes.size() - 32, reinterpret_cast<unsigned char*>(bytes.data() + bytes.size() - 32), &n,
               EVP_sha256(), nullptr);
  }
  try {
    squeezenet::read_sqz_bytes(bytes, "fuzz");
  } catch (const squeezenet::Error&) {
  }
  return 0;
}
