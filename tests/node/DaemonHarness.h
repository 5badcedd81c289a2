// DaemonHarness: a cryod for a test: certificates made with `cryo certs`, a config on a temp
// directory (UNIX socket and 127.0.0.1 with a port the daemon picks), start, stop, kill, and
// the cryo client commands against it, locally or over mutual TLS.
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

class DaemonHarness {
 public:
  explicit DaemonHarness(const std::filesystem::path& root);
  ~DaemonHarness();  // kills the daemon if it still runs

  // Starts cryod and waits until it says where it listens.
  void start();
  // SIGTERM (the daemon stops its tasks) and waits for its end; returns its exit code.
  int stop();

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
  nlohmann::json task(const std::string& id) const;
  // Polls `task(id)` until `pred` holds; a test failure after a generous hang guard.
  nlohmann::json waitForTask(const std::string& id, const std::string& what,
                             const std::function<bool(const nlohmann::json&)>& pred) const;

  // Polls `cond` (10 ms apart) until it holds; false after the hang guard.
  static bool poll(const std::function<bool()>& cond);
  static constexpr std::chrono::seconds kHangGuard{120};

 private:
  void writeConfig() const;
  std::filesystem::path root_, certs_, data_, socket_, config_, log_;
  pid_t pid_ = -1;
  std::string tcp_;
};

}  // namespace cryo::test
