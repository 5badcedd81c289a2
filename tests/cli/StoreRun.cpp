// StoreRun: what the tests of `cryo run` into a store share: program paths, backend probing, finding the task cryo started, waiting for checkpoints or for lines of the task's output, and reading `cryo ls --json`.
#include "StoreRun.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "CommandRunner.h"
#include "CryoCli.h"
#include "OutputCompare.h"
#include "ProcessControl.h"

namespace cryo::test {

using std::chrono::milliseconds;

std::string TrackerMode::name() const {
  std::string n = tracker + "_" + mode;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

std::string programPath(const std::string& name) {
  return std::string(CRYO_TEST_PROGRAMS_DIR) + "/" + name;
}

bool backendAvailable(const std::string& backend, std::string& why) {
  CommandResult r = CommandRunner::run({CryoCli::binary().string(), "check"}, {}, milliseconds(20000));
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(backend + ": ", 0) != 0) continue;
    why = line;
    return line.find(": available") != std::string::npos;
  }
  why = "cryo check does not list " + backend;
  return false;
}

pid_t taskOf(pid_t cryoPid) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in("/proc/" + std::to_string(cryoPid) + "/task/" + std::to_string(cryoPid) +
                     "/children");
    pid_t child = 0;
    if (in >> child && child > 0) return child;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return -1;
}

nlohmann::json listStore(const std::filesystem::path& store) {
  CommandResult r = CommandRunner::run(
      {CryoCli::binary().string(), "ls", "--store", store.string(), "--json"}, {}, milliseconds(30000));
  EXPECT_TRUE(r.succeeded()) << r.describe();
  return r.succeeded() ? nlohmann::json::parse(r.out) : nlohmann::json::array();
}

size_t checkpointCount(const std::filesystem::path& store) {
  std::error_code ec;
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(store, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() == 6 && std::all_of(name.begin(), name.end(), ::isdigit)) ++n;
  }
  return n;
}

bool waitForCheckpoints(const std::filesystem::path& store, size_t n, pid_t cryoPid,
                        milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (checkpointCount(store) >= n) return true;
    if (ProcessControl::isGone(cryoPid)) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

size_t linesStartingWith(const std::filesystem::path& file, const std::string& prefix) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return 0;  // not written yet (the program starting)
  std::istringstream in(OutputCompare::readFile(file));
  size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) ++n;
  return n;
}

bool waitForLines(const std::filesystem::path& file, const std::string& prefix, size_t n,
                  pid_t pid, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (linesStartingWith(file, prefix) >= n) return true;
    if (ProcessControl::isGone(pid)) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

std::vector<std::string> withStderrTo(const std::filesystem::path& errFile,
                                      const std::vector<std::string>& argv) {
  std::vector<std::string> out = {"/bin/sh", "-c", "exec 2>\"$0\"; exec \"$@\"", errFile.string()};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

int checkListing(const nlohmann::json& list, const std::string& mode) {
  int incremental = 0;
  for (const auto& c : list) {
    EXPECT_TRUE(c["complete"].get<bool>()) << c.dump();
    if (!c["parent"].is_null()) ++incremental;
    EXPECT_EQ(c.value("mode", ""), mode) << c.dump();
  }
  return incremental;
}

void restoreStoreAndCompare(const std::filesystem::path& store, pid_t task, pid_t refPid,
                            const std::filesystem::path& ref, const std::filesystem::path& out,
                            std::chrono::milliseconds timeout) {
  CommandResult r = CommandRunner::run(
      {CryoCli::binary().string(), "restore", "--store", store.string()}, {}, timeout);
  ASSERT_TRUE(r.succeeded()) << r.describe();
  auto pid = CryoCli::restoredPid(r);
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(*pid, task);
  ExitStatus st = ProcessControl::waitForExit(*pid, timeout);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
  ExitStatus refSt = ProcessControl::waitForExit(refPid, timeout);
  ASSERT_TRUE(refSt.exitedWith(0)) << refSt.describe();
  EXPECT_TRUE(OutputCompare::sameContents(ref, out));
}

}  // namespace cryo::test
