// DaemonHarness: a cryod for a test: certificates made with `cryo certs`, a config on a temp
// directory (UNIX socket and 127.0.0.1 with a port the daemon picks, peers), start, stop, kill,
// and the cryo client commands against it, locally or over mutual TLS. Several harnesses sharing
// one CA are the nodes of a test cluster on loopback.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "CommandResult.h"

namespace cryo::test {

struct NodeOptions {
  std::string name = "n1";
  // The cluster's CA and certificates (ca.crt, NAME.crt, client.crt...). "" : ROOT/certs, made
  // by the harness. The node's certificate is made in it when missing.
  std::filesystem::path certs;
  // Where the node's own NAME.crt and NAME.key come from ("" : `certs`): another CA's, to make
  // a node the cluster does not trust.
  std::filesystem::path nodeCerts;
  std::vector<std::pair<std::string, std::string>> peers;  // [[peers]] name, address
  std::vector<std::string> env;                            // added to the daemon's environment
};

class DaemonHarness {
 public:
  explicit DaemonHarness(const std::filesystem::path& root, NodeOptions options = {});
  ~DaemonHarness();  // kills the daemon if it still runs

  // Starts cryod and waits until it says where it listens.
  void start();
  // SIGTERM (the daemon stops its tasks) and waits for its end; returns its exit code.
  int stop();
  // SIGKILL (a node's death: its tasks run on, orphaned) and waits for its end.
  void kill();
  // The config's [[peers]], for the next start().
  void setPeers(std::vector<std::pair<std::string, std::string>> peers);
  const std::string& name() const { return options_.name; }

  const std::filesystem::path& dataDir() const { return data_; }
  const std::filesystem::path& certDir() const { return certs_; }
  std::string tcpAddress() const { return tcp_; }
  std::string socketAddress() const { return "unix:" + socket_.string(); }

  // `cryo ARGS...`.
  static CommandResult cryo(const std::vector<std::string>& args);
  // `cryo ARGS... --node TCP` with the client certificate of `certDir` (empty: none given).
  CommandResult overTls(std::vector<std::string> args, const std::filesystem::path& certDir,
                        const std::string& client = "client") const;
  // `cryo ARGS... --node unix:SOCKET`.
  CommandResult local(std::vector<std::string> args) const;
  // `cryo ps --json` over TLS: the task of that id (a test failure and null when missing).
  // `log` is the daemon's output so far.
  std::string log() const;
  nlohmann::json task(const std::string& id) const;
  // Polls `task(id)` until `pred` holds; a test failure after a generous hang guard.
  nlohmann::json waitForTask(const std::string& id, const std::string& what,
                             const std::function<bool(const nlohmann::json&)>& pred) const;

  // Polls `cond` (10 ms apart) until it holds; false after the hang guard.
  static bool poll(const std::function<bool()>& cond);
  static constexpr std::chrono::seconds kHangGuard{120};

 private:
  void writeConfig() const;
  NodeOptions options_;
  std::filesystem::path root_, certs_, data_, socket_, config_, log_;
  pid_t pid_ = -1;
  std::string tcp_;
};

}  // namespace cryo::test
