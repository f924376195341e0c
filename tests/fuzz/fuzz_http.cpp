// libFuzzer target for what a stranger's bytes meet in `squeezenet serve`: arbitrary bytes as one HTTP request
// to the server's routes (request line, headers, Content-Length checks, raw and multipart bodies, the KServe
// JSON, image decoding and the model), through cpp-httplib's own request parser as a socket would feed it. Any
// answer is fine; a crash, a hang or a sanitizer report is a bug.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "serve/server.h"
#include "squeezenet/model.h"
#include "squeezenet/weights.h"

namespace {

// One request's bytes in, the answer discarded.
class RequestStream : public httplib::Stream {
 public:
  RequestStream(const uint8_t* data, size_t size) : data_(reinterpret_cast<const char*>(data)), left_(size) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, left_);
    std::memcpy(ptr, data_, n);
    data_ += n;
    left_ -= n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 1; }
  void get_local_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 8080; }
  socket_t socket() const override { return -1; }

 private:
  const char* data_;
  size_t left_;
};

// process_request is the library's entry for one request read from a stream; it is protected.
class FuzzedServer : public httplib::Server {
 public:
  void serve(RequestStream& stream) {
    bool closed = false;
    process_request(stream, true, closed, nullptr);
  }
};

// A freshly initialised squeezenet1_1 named "m", served as `squeezenet serve` would with small limits.
FuzzedServer& server() {
  static squeezenet::serve::ServerOptions options;
  static FuzzedServer svr;
  static const std::shared_ptr<void> routes = [] {
    const auto path = std::filesystem::temp_directory_path() / ("fuzz_http_" + std::to_string(::getpid()) + ".safetensors");
    squeezenet::save_weights(squeezenet::Model({}, 1).to_weights(), path.string(), squeezenet::Format::safetensors);
    options.models = {{"m", path.string()}};
    options.access_log = false;
    options.max_body = 1u << 20;
    options.batcher.max_batch = 2;
    options.batcher.limits = {1024, 1 << 20};
    svr.set_payload_max_length(options.max_body);
    auto r = squeezenet::serve::add_routes(svr, options);
    std::filesystem::remove(path);
    return r;
  }();
  return svr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  RequestStream stream(data, size);
  server().serve(stream);
  return 0;
}
