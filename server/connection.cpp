#include "connection.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace autoglm::server {
namespace {

thread_local int t_connection = -1;

// Sets t_connection for one connection's lifetime.
class ConnectionScope {
 public:
  explicit ConnectionScope(int sock) { t_connection = sock; }
  ~ConnectionScope() { t_connection = -1; }
  ConnectionScope(const ConnectionScope&) = delete;
  ConnectionScope& operator=(const ConnectionScope&) = delete;
};

// poll() one event on `sock` for up to `ms` (EINTR retried): >0 ready, 0 timeout, <0 error.
int poll_for(int sock, short events, int64_t ms) {
  pollfd p{sock, events, 0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const int r = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30)));
    if (r >= 0 || errno != EINTR) return r;
  }
}

int64_t to_ms(time_t sec, time_t usec) { return static_cast<int64_t>(sec) * 1000 + static_cast<int64_t>(usec) / 1000; }

void address_of(int sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  const int r = peer ? ::getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len)
                     : ::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
  if (r != 0) return;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  ip = host;
  port = std::atoi(serv);
}

// A connected socket as httplib's Stream, with read/write timeouts and a read buffer (httplib
// reads request lines a byte at a time).
class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int sock, int64_t read_timeout_ms, int64_t write_timeout_ms)
      : sock_(sock), read_ms_(read_timeout_ms), write_ms_(write_timeout_ms) {}

  bool is_readable() const override { return poll_for(sock_, POLLIN, read_ms_) > 0; }
  bool is_writable() const override { return poll_for(sock_, POLLOUT, write_ms_) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (off_ < len_) {
      const size_t n = std::min(size, len_ - off_);
      std::memcpy(ptr, buf_ + off_, n);
      off_ += n;
      return static_cast<ssize_t>(n);
    }
    if (!is_readable()) return -1;
    if (size >= sizeof(buf_)) return recv_some(ptr, size);
    const ssize_t got = recv_some(buf_, sizeof(buf_));
    if (got <= 0) return got;
    len_ = static_cast<size_t>(got);
    off_ = std::min(size, len_);
    std::memcpy(ptr, buf_, off_);
    return static_cast<ssize_t>(off_);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);  // a gone client is an error, not SIGPIPE
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, false, ip, port); }
  socket_t socket() const override { return sock_; }
  // Bytes already read from the socket (a pipelined next request) but not yet consumed.
  bool has_buffered() const { return off_ < len_; }

 private:
  ssize_t recv_some(char* dst, size_t size) {
    ssize_t n;
    do {
      n = ::recv(sock_, dst, size, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  int sock_;
  int64_t read_ms_, write_ms_;
  char buf_[4096];
  size_t off_ = 0, len_ = 0;
};

}  // namespace

void ConnectionServer::widen_backlog(int n) { ::listen(svr_sock_, n); }

bool ConnectionServer::process_and_close_socket(socket_t sock) {
  ConnectionScope scope(sock);
  SocketStream strm(sock, to_ms(read_timeout_sec_, read_timeout_usec_), to_ms(write_timeout_sec_, write_timeout_usec_));
  bool ret = false;
  // As httplib: up to keep_alive_max_count_ requests, each awaited for keep_alive_timeout_sec_,
  // while the server is listening; the last one is answered with "Connection: close".
  for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    int r = strm.has_buffered() ? 1 : 0;
    // Short waits, so that stop() (svr_sock_ closed) ends idle connections promptly.
    while (r == 0 && (r = poll_for(sock, POLLIN, 100)) == 0 && svr_sock_ != INVALID_SOCKET &&
           std::chrono::steady_clock::now() < deadline) {
    }
    if (r <= 0) break;
    bool closed = false;
    ret = process_request(strm, left == 1, closed, nullptr);
    if (!ret || closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

int current_connection() { return t_connection; }

bool peer_hung_up(int sock) {
  if (sock < 0) return false;
  pollfd p{sock, static_cast<short>(POLLIN | POLLRDHUP), 0};
  int r;
  do {
    r = ::poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    // Readable without RDHUP: a pipelined next request (left unread) or, without RDHUP support, EOF.
    char c;
    const ssize_t n = ::recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }
  return false;
}

}  // namespace autoglm::server
