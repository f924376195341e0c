// The smallest endpoint on cpp-httplib, as `squeezenet serve` sets it up (a thread pool of HTTP threads; `deadline`:
// with the server's per-request read deadline), for bench/serve_http_libs.sh.
//   hello_httplib PORT THREADS plain|deadline     GET /live -> {"live":true}; POST /bytes -> {"bytes":N}
#include <httplib.h>

#include <cstdlib>
#include <string>

#include "serve/deadline_server.h"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const int port = std::atoi(argv[1]);
  const auto threads = static_cast<std::size_t>(std::atoi(argv[2]));
  auto svr = std::string(argv[3]) == "deadline" ? std::make_unique<squeezenet::serve::DeadlineServer>()
                                               : std::make_unique<httplib::Server>();
  svr->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr->set_keep_alive_max_count(100000);
  svr->Get("/live", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"live\":true}", "application/json");
  });
  svr->Post("/bytes", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("{\"bytes\":" + std::to_string(req.body.size()) + "}", "application/json");
  });
  return svr->listen("127.0.0.1", port) ? 0 : 1;
}
