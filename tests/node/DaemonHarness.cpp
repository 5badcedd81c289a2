// DaemonHarness: cryod started through ProcessControl (stdout and stderr to cryod.log), found
// through DATA/endpoints.json; cryo commands through CommandRunner.
#include "DaemonHarness.h"

#include <signal.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "CommandRunner.h"
#include "CryoCli.h"
#include "OutputCompare.h"
#include "ProcessControl.h"

namespace cryo::test {

namespace {

constexpr std::chrono::milliseconds kCommandTimeout{60000};

}  // namespace

DaemonHarness::DaemonHarness(const std::filesystem::path& root, NodeOptions options)
    : options_(std::move(options)),
      root_(root),
      certs_(options_.certs.empty() ? root / "certs" : options_.certs),
      data_(root / "data"),
      socket_(root / "run" / "cryod.sock"),
      config_(root / "cryod.toml"),
      log_(root / "cryod.log") {
  std::filesystem::create_directories(root);
  std::vector<std::vector<std::string>> make;
  if (!std::filesystem::exists(certs_ / "ca.crt")) make.push_back({"certs", "init", certs_.string()});
  if (!std::filesystem::exists(certs_ / "client.crt"))
    make.push_back({"certs", "issue", certs_.string(), "client"});
  std::filesystem::path own = options_.nodeCerts.empty() ? certs_ : options_.nodeCerts;
  if (!std::filesystem::exists(own / (options_.name + ".crt")))
    make.push_back({"certs", "issue", own.string(), options_.name});
  for (const auto& args : make) {
    CommandResult r = cryo(args);
    EXPECT_TRUE(r.succeeded()) << r.describe();
  }
  writeConfig();
}

DaemonHarness::~DaemonHarness() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ProcessControl::waitForExit(pid_, kCommandTimeout);
  }
}

void DaemonHarness::writeConfig() const {
  std::filesystem::path own = options_.nodeCerts.empty() ? certs_ : options_.nodeCerts;
  const std::string& n = options_.name;
  std::ofstream out(config_);
  out << "[node]\nname = \"" << n << "\"\ndata_dir = \"" << data_.string() << "\"\n"
      << "[listen]\nunix = \"" << socket_.string() << "\"\ntcp = \"127.0.0.1:0\"\n"
      << "[tls]\ncert = \"" << (own / (n + ".crt")).string() << "\"\nkey = \""
      << (own / (n + ".key")).string() << "\"\nca = \"" << (certs_ / "ca.crt").string() << "\"\n";
  for (const auto& [name, address] : options_.peers)
    out << "[[peers]]\nname = \"" << name << "\"\naddress = \"" << address << "\"\n";
}

void DaemonHarness::setPeers(std::vector<std::pair<std::string, std::string>> peers) {
  options_.peers = std::move(peers);
  writeConfig();
}

std::string DaemonHarness::log() const { return OutputCompare::readFile(log_); }

void DaemonHarness::kill() {
  ::kill(pid_, SIGKILL);
  ProcessControl::waitForExit(pid_, kHangGuard);
  pid_ = -1;
}

void DaemonHarness::start() {
  pid_ = ProcessControl::spawnTarget({CRYOD_BIN, "--config", config_.string()}, log_, options_.env);
  ASSERT_GT(pid_, 0);
  std::filesystem::path endpoints = data_ / "endpoints.json";
  nlohmann::json j;
  bool up = poll([&] {
    if (ProcessControl::isGone(pid_)) return true;
    if (!std::filesystem::exists(endpoints)) return false;
    j = nlohmann::json::parse(OutputCompare::readFile(endpoints), nullptr, false);
    return !j.is_discarded() && j.value("pid", 0) == pid_;
  });
  ASSERT_TRUE(up && !ProcessControl::isGone(pid_))
      << "cryod did not start:\n" << OutputCompare::readFile(log_);
  tcp_ = j.at("tcp").get<std::string>();
  ASSERT_TRUE(tcp_.starts_with("127.0.0.1:")) << tcp_;
}

int DaemonHarness::stop() {
  ::kill(pid_, SIGTERM);
  ExitStatus st = ProcessControl::waitForExit(pid_, kHangGuard);
  pid_ = -1;
  EXPECT_TRUE(st.exited()) << st << "\n" << OutputCompare::readFile(log_);
  return st.code();
}

CommandResult DaemonHarness::cryo(const std::vector<std::string>& args) {
  std::vector<std::string> argv{CryoCli::binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return CommandRunner::run(argv, {}, kCommandTimeout);
}

CommandResult DaemonHarness::overTls(std::vector<std::string> args,
                                     const std::filesystem::path& certDir,
                                     const std::string& client) const {
  // Right after the subcommand: what follows `--` is the task's command line.
  std::vector<std::string> conn{"--node", tcp_, "--ca", (certs_ / "ca.crt").string()};
  if (!certDir.empty())
    conn.insert(conn.end(), {"--cert", (certDir / (client + ".crt")).string(), "--key",
                             (certDir / (client + ".key")).string()});
  args.insert(args.begin() + 1, conn.begin(), conn.end());
  return cryo(args);
}

CommandResult DaemonHarness::local(std::vector<std::string> args) const {
  args.insert(args.begin() + 1, {"--node", socketAddress()});
  return cryo(args);
}

nlohmann::json DaemonHarness::task(const std::string& id) const {
  CommandResult r = overTls({"ps", "--json"}, certs_);
  EXPECT_TRUE(r.succeeded()) << r.describe();
  nlohmann::json all = nlohmann::json::parse(r.out, nullptr, false);
  if (all.is_array())
    for (const auto& t : all)
      if (t.value("task", "") == id) return t;
  ADD_FAILURE() << "no task " << id << " in: " << r.out;
  return nullptr;
}

nlohmann::json DaemonHarness::waitForTask(
    const std::string& id, const std::string& what,
    const std::function<bool(const nlohmann::json&)>& pred) const {
  nlohmann::json t;
  bool ok = poll([&] {
    t = task(id);
    return t.is_null() || pred(t);
  });
  EXPECT_TRUE(ok && !t.is_null()) << "task " << id << " never " << what << ": " << t.dump()
                                  << "\n" << OutputCompare::readFile(log_);
  return t;
}

bool DaemonHarness::poll(const std::function<bool()>& cond) {
  auto until = std::chrono::steady_clock::now() + kHangGuard;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace cryo::test
