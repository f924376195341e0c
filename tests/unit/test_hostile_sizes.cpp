// Limits against hostile sizes: each reader given a small file whose counts or lengths claim far more than the
// file holds refuses it with an Error before allocating what the claim asks for; and under a 6 GiB address
// space limit (ulimit -v, set in a child process) none of these files ends in an abort or bad_alloc.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "formats/readers.h"
#include "formats/zip_archive.h"
#include "squeezenet/error.h"
#include "squeezenet/image.h"
#include "test_env.h"
#include "util/io.h"

namespace squeezenet {
namespace {

template <class T>
std::string le(T v) {
  std::string s(sizeof v, '\0');
  std::memcpy(s.data(), &v, sizeof v);
  return s;
}

std::string safetensors_with(const std::string& header, const std::string& data) {
  return le<uint64_t>(header.size()) + header + data;
}

std::string npy_with(const std::string& header_dict, const std::string& data) {
  std::string header = header_dict;
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
  return std::string("\x93NUMPY\x01\x00", 8) + le<uint16_t>(static_cast<uint16_t>(header.size())) + header + data;
}

// A stored zip of one entry whose central directory (and local header) claim `claimed` bytes.
std::string zip_claiming(uint32_t claimed) {
  std::string zip = write_zip({{"archive/data.pkl", "\x80\x02}q\x00."}}, 64);
  for (const char* sig : {"PK\x01\x02", "PK\x03\x04"}) {
    const std::size_t at = zip.find(sig);
    const std::size_t sizes = at + (sig[2] == 1 ? 20 : 18);  // compressed, then uncompressed size
    std::memcpy(zip.data() + sizes, &claimed, 4);
    std::memcpy(zip.data() + sizes + 4, &claimed, 4);
  }
  return zip;
}

// A real JPEG whose SOF says 65500 x 65500 pixels.
std::string jpeg_claiming_huge_size() {
  std::string jpeg = read_file(test::data_dir() + "/imagenet-sample-1000/n01531178_goldfinch.JPEG");
  for (std::size_t i = 2; i + 9 < jpeg.size(); ++i)
    if (static_cast<unsigned char>(jpeg[i]) == 0xFF && (jpeg[i + 1] == '\xC0' || jpeg[i + 1] == '\xC2')) {
      jpeg[i + 5] = jpeg[i + 7] = '\xFF';
      jpeg[i + 6] = jpeg[i + 8] = '\xDC';
      return jpeg;
    }
  ADD_FAILURE() << "no SOF marker";
  return jpeg;
}

struct Case {
  const char* name;
  std::function<void()> read;
};

std::vector<Case> hostile_cases() {
  const std::string ncnn_param =
      "7767517\n3 3\nInput data 0 1 data\nConvolution conv1 1 1 data c1 0=1073741823 1=1 5=1 6=1073741823 9=1\n"
      "Pooling pool 1 1 c1 out 0=1 4=1\n";
  return {
      {"safetensors header length 2^63",
       [] { read_safetensors_bytes(le<uint64_t>(uint64_t{1} << 63) + "{}", "h.safetensors"); }},
      {"safetensors header longer than the file",
       [] { read_safetensors_bytes(le<uint64_t>(1 << 20) + "{}", "h.safetensors"); }},
      {"safetensors shape of 2^80 elements",
       [] {
         read_safetensors_bytes(
             safetensors_with(R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}})",
                              std::string(4, '\0')),
             "h.safetensors");
       }},
      {"safetensors data_offsets past the end",
       [] {
         read_safetensors_bytes(
             safetensors_with(R"({"w":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}})", ""),
             "h.safetensors");
       }},
      {"npy header length 65535", [] { read_npy_bytes(std::string("\x93NUMPY\x01\x00\xff\xff{}", 12), "h.npy"); }},
      {"npy shape of 10^12 elements",
       [] { read_npy_bytes(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", "abcd"), "h.npy"); }},
      {"pickle string of 4 GiB",
       [] { read_pth_bytes(write_zip({{"archive/data.pkl", std::string("\x80\x02X\xff\xff\xff\xff", 7)}}, 64), "h.pth"); }},
      {"pickle LONG4 of 2 GiB",
       [] { read_pth_bytes(write_zip({{"archive/data.pkl", std::string("\x80\x02\x8b\xff\xff\xff\x7f", 7)}}, 64), "h.pth"); }},
      {"zip entry claiming 4 GiB", [] { read_pth_bytes(zip_claiming(0xFFFFFFF0u), "h.pth"); }},
      {"caffemodel blob of 2^40 x 2^40",
       [] {
         // NetParameter.layer { name "conv1", type "Convolution", blobs { shape { dim 2^40 dim 2^40 } data 1.0 } }
         const std::string dims = std::string("\x08\x80\x80\x80\x80\x80\x20\x08\x80\x80\x80\x80\x80\x20", 14);
         const std::string blob = "\x3a" + std::string(1, static_cast<char>(dims.size())) + dims +
                                  std::string("\x2a\x04\x00\x00\x80\x3f", 6);
         const std::string layer = std::string("\x0a\x05") + "conv1" + "\x12\x0b" + "Convolution" + "\x3a" +
                                   std::string(1, static_cast<char>(blob.size())) + blob;
         read_caffemodel_bytes("\xa2\x06" + std::string(1, static_cast<char>(layer.size())) + layer, "h.caffemodel");
       }},
      {"caffemodel field length of 2 GiB",
       [] { read_caffemodel_bytes(std::string("\xa2\x06\xff\xff\xff\xff\x07", 7) + "xy", "h.caffemodel"); }},
      {"deep compression entry count 2^32-1",
       [] { read_deep_compression_bytes(le<uint32_t>(0xFFFFFFFFu) + std::string(200, '\0'), "h.net"); }},
      {"ncnn weight_data_size of 2^30 with an empty .bin",
       [ncnn_param] { read_ncnn_bytes(ncnn_param, "", "h.param", "h.bin"); }},
      {"ncnn layer count 2^31-1", [] { read_ncnn_bytes("7767517\n2147483647 1\n", "", "h.param", "h.bin"); }},
      {"jpeg of 65500 x 65500", [] { decode_image_bytes(jpeg_claiming_huge_size(), "h.jpg"); }},
  };
}

TEST(HostileSizes, EveryReaderRefusesALyingLength) {
  for (const Case& c : hostile_cases()) {
    try {
      c.read();
      ADD_FAILURE() << c.name << ": accepted";
    } catch (const Error& e) {
      EXPECT_TRUE(std::string(e.what()).find("h.") != std::string::npos) << c.name << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << c.name << ": " << e.what() << " (not an Error)";
    }
  }
}

// Sanitizers reserve terabytes of address space for their shadow memory, so the limit cannot apply to them.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST(HostileSizes, NoAbortUnderASixGibAddressSpaceLimit) {
  const std::vector<Case> cases = hostile_cases();  // made before the fork: reading the JPEG is not under test
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const rlimit limit{rlim_t{6} << 30, rlim_t{6} << 30};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(3);
    int refused = 0;
    for (const Case& c : cases) {
      try {
        c.read();
      } catch (const Error&) {
        ++refused;
      } catch (...) {
        ::_exit(2);
      }
    }
    ::_exit(refused == static_cast<int>(cases.size()) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: an input was accepted, 2: an exception other than Error, 3: setrlimit";
}
#endif

}  // namespace
}  // namespace squeezenet
