// RespClient: a minimal client of the Redis protocol (RESP) over loopback TCP, for tests that checkpoint a real redis-server: pipelined commands, simple and bulk replies.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cryo::test {

class RespClient {
 public:
  // Connects to 127.0.0.1:port, retrying until `timeout` passes. Throws on failure.
  RespClient(uint16_t port, std::chrono::milliseconds timeout);
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;
  ~RespClient();

  // One reply: a status or error line ("+OK", "-ERR ..."), an integer (":5"), or a bulk string
  // (nullopt for a nil bulk).
  struct Reply {
    char type = 0;  // '+', '-', ':', '$'
    std::string text;
    std::optional<std::string> bulk;
  };
  // Sends every command (each a list of arguments) at once, then reads one reply per command.
  std::vector<Reply> pipeline(const std::vector<std::vector<std::string>>& commands);
  Reply command(const std::vector<std::string>& args) { return pipeline({args}).front(); }
  // Whether the server closed or reset the connection (a read returns EOF or an error).
  bool closedByPeer(std::chrono::milliseconds timeout);

  // A TCP port on 127.0.0.1 that nothing listens on right now.
  static uint16_t freePort();

 private:
  std::string readLine();
  std::string readExactly(size_t n);
  int fd_ = -1;
  std::string buf_;
};

}  // namespace cryo::test
