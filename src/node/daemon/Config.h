// Config: cryod's configuration, read from a TOML file (packaging/cryod.toml documents it).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cryo::daemon {

// Another cryod this node may stream its tasks' checkpoints to ([[peers]]).
struct Peer {
  std::string name;     // its node name (as in its certificate)
  std::string address;  // host:port of its mutual TLS listener
};

struct Config {
  std::string nodeName;                 // [node] name (default: the host name)
  std::filesystem::path dataDir;        // [node] data_dir: task records, stores and logs
  std::filesystem::path unixSocket;     // [listen] unix ("": no local socket)
  std::string tcpAddress;               // [listen] tcp, host:port ("": no TCP listener)
  std::filesystem::path tlsCert;        // [tls] cert, key, ca: required with a TCP listener
  std::filesystem::path tlsKey;
  std::filesystem::path tlsCa;
  std::vector<Peer> peers;              // [[peers]] name, address

  // The peers a task with `replicas` standbys streams to: the first `replicas` of [[peers]].
  // Throws std::invalid_argument when fewer are configured.
  std::vector<Peer> pickStandbys(uint32_t replicas) const;

  // Throws std::runtime_error naming the file and what is wrong in it.
  static Config load(const std::filesystem::path& file);
};

}  // namespace cryo::daemon
