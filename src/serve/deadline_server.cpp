#include "serve/deadline_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace squeezenet::serve {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The outcome of waiting up to `timeout` for `events` on `sock`: true when they came.
bool wait_for(socket_t sock, short events, milliseconds timeout) {
  pollfd p{sock, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(timeout.count(), 0)));
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

std::string ip_of(const sockaddr_storage& addr, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    port = ntohs(a.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    port = ntohs(a.sin6_port);
  }
  return text;
}

// The library's socket stream, buffered the same way (it parses headers a byte at a time), but every read waits
// at most until the current request's deadline.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, milliseconds read_timeout, milliseconds write_timeout)
      : sock_(sock), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  void start_request(milliseconds allowed) {
    deadline_ = Clock::now() + allowed;
    answered_ = expired_ = false;
  }
  // The request ran out of time before anything was answered.
  bool timed_out() const { return expired_ && !answered_; }
  bool has_buffered() const { return begin_ < end_; }  // a pipelined request's first bytes

  bool is_readable() const override { return begin_ < end_ || wait_readable(); }
  bool is_writable() const override { return wait_for(sock_, POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      if (!wait_readable()) return -1;
      ssize_t n;
      do n = ::recv(sock_, buffer_, sizeof buffer_, 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    answered_ = true;
    ssize_t n;
    do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) ip = ip_of(addr, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) ip = ip_of(addr, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  // The read timeout between bytes, cut short by the request's deadline.
  bool wait_readable() const {
    const auto left = std::chrono::ceil<milliseconds>(deadline_ - Clock::now());
    if (left >= read_timeout_) return wait_for(sock_, POLLIN, read_timeout_);
    expired_ = left.count() <= 0 || !wait_for(sock_, POLLIN, left);
    return !expired_;
  }

  socket_t sock_;
  milliseconds read_timeout_, write_timeout_;
  Clock::time_point deadline_ = Clock::now();
  bool answered_ = false;
  mutable bool expired_ = false;
  char buffer_[CPPHTTPLIB_RECV_BUFSIZ];
  size_t begin_ = 0, end_ = 0;
};

milliseconds ms_of(time_t sec, time_t usec) { return milliseconds(sec * 1000 + usec / 1000); }

}  // namespace

bool DeadlineServer::next_request_arrives(socket_t sock) const {
  const auto until = Clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
  // Short waits, so that a stopping server does not keep idle connections open for the whole timeout.
  while (svr_sock_ != INVALID_SOCKET && Clock::now() < until)
    if (wait_for(sock, POLLIN, milliseconds(50))) return true;
  return false;
}

bool DeadlineServer::process_and_close_socket(socket_t sock) {
  // The library writes a response's headers and body in two sends; with Nagle's algorithm on, the body waits for
  // the client's delayed ACK of the headers: 40 ms added to every answer.
  int yes = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  DeadlineStream stream(sock, ms_of(read_timeout_sec_, read_timeout_usec_), ms_of(write_timeout_sec_, write_timeout_usec_));
  bool ok = false;
  for (size_t left = keep_alive_max_count_; left > 0 && (stream.has_buffered() || next_request_arrives(sock)); --left) {
    stream.start_request(read_deadline_);
    bool closed = false;
    ok = process_request(stream, left == 1, closed, nullptr);
    if (!ok && stream.timed_out()) {
      static constexpr char kTimeout[] =
          "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
      stream.write(kTimeout, sizeof kTimeout - 1);
    }
    if (!ok || closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace squeezenet::serve
