// Config: reads cryod's TOML configuration with toml11 and checks it.
#include "node/daemon/Config.h"

#include <unistd.h>

#include <functional>
#include <stdexcept>

#include <fmt/format.h>
#include <toml.hpp>

namespace cryo::daemon {

namespace {

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "node";
  return buf;
}

std::string text(const toml::value& v, const char* table, const char* key,
                 const std::string& dflt) {
  if (!v.contains(table)) return dflt;
  const toml::value& t = v.at(table);
  if (!t.is_table() || !t.contains(key)) return dflt;
  return toml::get<std::string>(t.at(key));
}

std::vector<Peer> peersOf(const toml::value& v) {
  std::vector<Peer> out;
  if (!v.contains("peers")) return out;
  for (const toml::value& p : toml::get<std::vector<toml::value>>(v.at("peers"))) {
    Peer peer;
    peer.name = toml::find<std::string>(p, "name");
    peer.address = toml::find<std::string>(p, "address");
    out.push_back(std::move(peer));
  }
  return out;
}

void checkPeers(const Config& c, const std::function<void(const std::string&)>& bad) {
  for (size_t i = 0; i < c.peers.size(); ++i) {
    const Peer& p = c.peers[i];
    if (p.name.empty() || p.address.find(':') == std::string::npos)
      bad(fmt::format("[[peers]] #{} needs a name and an address host:port", i + 1));
    if (p.name == c.nodeName) bad(fmt::format("[[peers]] '{}' is this node", p.name));
    for (size_t j = 0; j < i; ++j)
      if (c.peers[j].name == p.name) bad(fmt::format("[[peers]] '{}' appears twice", p.name));
  }
  if (!c.peers.empty() && (c.tlsCert.empty() || c.tlsKey.empty() || c.tlsCa.empty()))
    bad("[[peers]] need [tls] cert, key and ca (nodes talk over mutual TLS only)");
}

void check(const Config& c, const std::filesystem::path& file) {
  auto bad = [&](const std::string& why) {
    throw std::runtime_error(fmt::format("config {}: {}", file.string(), why));
  };
  if (c.dataDir.empty()) bad("[node] data_dir is missing");
  if (c.unixSocket.empty() && c.tcpAddress.empty()) bad("[listen] has neither unix nor tcp");
  if (!c.tcpAddress.empty() && (c.tlsCert.empty() || c.tlsKey.empty() || c.tlsCa.empty()))
    bad("[listen] tcp needs [tls] cert, key and ca (the TCP listener is mutual TLS only)");
  if (c.nodeName.empty() || c.nodeName.find_first_of("/ \t") != std::string::npos)
    bad(fmt::format("[node] name '{}' must be non-empty, without '/' or spaces", c.nodeName));
  checkPeers(c, bad);
}

}  // namespace

Config Config::load(const std::filesystem::path& file) {
  toml::value v;
  try {
    v = toml::parse(file.string());
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("config {}: {}", file.string(), e.what()));
  }
  Config c;
  try {
    c.nodeName = text(v, "node", "name", hostName());
    c.dataDir = text(v, "node", "data_dir", "/var/lib/cryod");
    c.unixSocket = text(v, "listen", "unix", "/run/cryod/cryod.sock");
    c.tcpAddress = text(v, "listen", "tcp", "");
    c.tlsCert = text(v, "tls", "cert", "");
    c.tlsKey = text(v, "tls", "key", "");
    c.tlsCa = text(v, "tls", "ca", "");
    c.peers = peersOf(v);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("config {}: {}", file.string(), e.what()));
  }
  check(c, file);
  return c;
}

}  // namespace cryo::daemon

namespace cryo::daemon {

std::vector<Peer> Config::pickStandbys(uint32_t replicas) const {
  if (replicas > peers.size())
    throw std::invalid_argument(fmt::format(
        "--replicas {} needs {} peers; node {} has {} configured ([[peers]] in its config)",
        replicas, replicas, nodeName, peers.size()));
  return std::vector<Peer>(peers.begin(), peers.begin() + replicas);
}

}  // namespace cryo::daemon
