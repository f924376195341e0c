#pragma once
// `squeezenet serve`: the HTTP front. Routes, limits, access log and graceful shutdown over cpp-httplib;
// the work itself goes through the Batcher.
#include <memory>
#include <string>
#include <vector>

#include "serve/batcher.h"

namespace httplib {
class Server;
}

namespace squeezenet::serve {

struct ModelSpec {
  std::string name;     // the model's name in URLs
  std::string weights;  // any supported weights file
};

struct ServerOptions {
  std::vector<ModelSpec> models;
  std::string host = "127.0.0.1";
  int port = 8080;             // 0: any free port (printed on start)
  int http_threads = 256;      // connections served at once; each keep-alive connection holds one
  std::size_t max_body = 20u << 20;
  int timeout_s = 10;          // a client that sends or reads nothing for this long is dropped
  int read_deadline_s = 30;    // a request's headers and body must arrive within this long of its first byte
  bool access_log = true;      // one JSON line per request on stdout
  Precision precision = Precision::fp32;
  BatcherOptions batcher;
};

// "name=path" or a bare path (named after the file, without extension).
ModelSpec parse_model_spec(const std::string& text);

// Loads the models and routes `svr`'s requests to them as run_server does, without sockets or signals (the HTTP
// fuzzer feeds it requests directly). The result owns the models; it and `options` must outlive `svr`'s use.
std::shared_ptr<void> add_routes(httplib::Server& svr, const ServerOptions& options);

// Loads the models, listens, serves until SIGTERM or SIGINT, then finishes what is in flight and returns.
// Throws Error when a model does not load or the address cannot be bound.
void run_server(const ServerOptions& options);

}  // namespace squeezenet::serve
