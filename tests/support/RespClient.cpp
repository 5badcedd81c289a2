// RespClient: a minimal client of the Redis protocol (RESP) over loopback TCP.
#include "RespClient.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace cryo::test {

namespace {
sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}
}  // namespace

RespClient::RespClient(uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in a = loopback(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " +
                               std::strerror(e));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RespClient::~RespClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<RespClient::Reply> RespClient::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  std::string out;
  for (const auto& cmd : commands) {
    out.append("*").append(std::to_string(cmd.size())).append("\r\n");
    for (const auto& a : cmd)
      out.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  }
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::send(fd_, out.data() + done, out.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("send to redis: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  std::vector<Reply> replies;
  for (size_t i = 0; i < commands.size(); ++i) {
    std::string line = readLine();
    if (line.empty()) throw std::runtime_error("empty reply line from redis");
    Reply r;
    r.type = line[0];
    r.text = line.substr(1);
    if (r.type == '$') {
      long len = std::stol(r.text);
      if (len >= 0) {
        r.bulk = readExactly(static_cast<size_t>(len));
        readExactly(2);  // \r\n
      }
    } else if (r.type != '+' && r.type != '-' && r.type != ':') {
      throw std::runtime_error("unexpected reply from redis: " + line);
    }
    replies.push_back(std::move(r));
  }
  return replies;
}

bool RespClient::closedByPeer(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

std::string RespClient::readLine() {
  for (;;) {
    size_t p = buf_.find("\r\n");
    if (p != std::string::npos) {
      std::string line = buf_.substr(0, p);
      buf_.erase(0, p + 2);
      return line;
    }
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("redis closed the connection");
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

std::string RespClient::readExactly(size_t n) {
  while (buf_.size() < n) {
    char tmp[65536];
    ssize_t k = ::recv(fd_, tmp, sizeof tmp, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) throw std::runtime_error("redis closed the connection");
    buf_.append(tmp, static_cast<size_t>(k));
  }
  std::string out = buf_.substr(0, n);
  buf_.erase(0, n);
  return out;
}

uint16_t RespClient::freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(errno));
  uint16_t port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

}  // namespace cryo::test
