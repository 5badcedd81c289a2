// Config: cryod's configuration, read from a TOML file (packaging/cryod.toml documents it).
#pragma once

#include <filesystem>
#include <string>

namespace cryo::daemon {

struct Config {
  std::string nodeName;                 // [node] name (default: the host name)
  std::filesystem::path dataDir;        // [node] data_dir: task records, stores and logs
  std::filesystem::path unixSocket;     // [listen] unix ("": no local socket)
  std::string tcpAddress;               // [listen] tcp, host:port ("": no TCP listener)
  std::filesystem::path tlsCert;        // [tls] cert, key, ca: required with a TCP listener
  std::filesystem::path tlsKey;
  std::filesystem::path tlsCa;

  // Throws std::runtime_error naming the file and what is wrong in it.
  static Config load(const std::filesystem::path& file);
};

}  // namespace cryo::daemon
