// InetAddress: IPv4 and IPv6 socket addresses as the image keeps them (address bytes, port,
// scope id): conversion to and from sockaddr, and text for messages ("127.0.0.1:80",
// "[::1]:80").
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace cryo {

class InetAddress {
 public:
  // Splits a sockaddr_in / sockaddr_in6.
  static void split(const sockaddr_storage& ss, std::string& addr, uint32_t& port,
                    uint32_t& scope);
  // Builds one; throws naming `who` if the address has the wrong size for `family`.
  static socklen_t make(int family, const std::string& addr, uint32_t port, uint32_t scope,
                        sockaddr_storage& ss, const std::string& who);
  static std::string text(int family, const std::string& addr, uint32_t port);
};

}  // namespace cryo
