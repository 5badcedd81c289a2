// InetAddress: IPv4 and IPv6 socket addresses as the image keeps them (address bytes, port,
// scope id): conversion to and from sockaddr, and text for messages ("127.0.0.1:80",
// "[::1]:80").
#include "common/InetAddress.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "common/Error.h"

namespace cryo {

void InetAddress::split(const sockaddr_storage& ss, std::string& addr, uint32_t& port,
                        uint32_t& scope) {
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    addr.assign(reinterpret_cast<const char*>(&a.sin_addr), 4);
    port = ntohs(a.sin_port);
    scope = 0;
  } else {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
    addr.assign(reinterpret_cast<const char*>(&a.sin6_addr), 16);
    port = ntohs(a.sin6_port);
    scope = a.sin6_scope_id;
  }
}

socklen_t InetAddress::make(int family, const std::string& addr, uint32_t port, uint32_t scope,
                            sockaddr_storage& ss, const std::string& who) {
  ss = {};
  if (family == AF_INET) {
    auto& a = reinterpret_cast<sockaddr_in&>(ss);
    if (addr.size() != 4) fail("{}: IPv4 address of {} bytes in the image", who, addr.size());
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&a.sin_addr, addr.data(), 4);
    return sizeof a;
  }
  auto& a = reinterpret_cast<sockaddr_in6&>(ss);
  if (addr.size() != 16) fail("{}: IPv6 address of {} bytes in the image", who, addr.size());
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(static_cast<uint16_t>(port));
  a.sin6_scope_id = scope;
  std::memcpy(&a.sin6_addr, addr.data(), 16);
  return sizeof a;
}

std::string InetAddress::text(int family, const std::string& addr, uint32_t port) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (addr.size() == (family == AF_INET ? 4u : 16u)) ::inet_ntop(family, addr.data(), buf, sizeof buf);
  return family == AF_INET6 ? fmt::format("[{}]:{}", buf, port) : fmt::format("{}:{}", buf, port);
}

}  // namespace cryo
