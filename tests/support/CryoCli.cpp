// CryoCli: runs the cryo binary's dump, restore and show commands the way a user would, with optional fault injection.
#include "CryoCli.h"

#include <cstdlib>
#include <map>

namespace cryo::test {

namespace {

std::map<std::string, std::string> faultEnv(const std::string& fault) {
  if (fault.empty()) return {};
  return {{"CRYO_FAULT", fault}};
}

}  // namespace

std::filesystem::path CryoCli::binary() { return CRYO_BIN; }

CommandResult CryoCli::dump(pid_t pid, const std::filesystem::path& images, bool leaveRunning,
                            const std::string& fault) {
  std::vector<std::string> argv = {binary().string(), "dump", "--pid", std::to_string(pid),
                                   "--images", images.string()};
  if (leaveRunning) argv.push_back("--leave-running");
  return CommandRunner::run(argv, faultEnv(fault), kTimeout);
}

CommandResult CryoCli::dumpWith(pid_t pid, const std::filesystem::path& images,
                               const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {binary().string(), "dump", "--pid", std::to_string(pid),
                                   "--images", images.string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return CommandRunner::run(argv, {}, kTimeout);
}

CommandResult CryoCli::restore(const std::filesystem::path& images, const std::string& fault) {
  return CommandRunner::run({binary().string(), "restore", "--images", images.string()},
                            faultEnv(fault), kTimeout);
}

CommandResult CryoCli::restoreStopped(const std::filesystem::path& images) {
  return CommandRunner::run(
      {binary().string(), "restore", "--images", images.string(), "--leave-stopped"}, {},
      kTimeout);
}

CommandResult CryoCli::restoreWithEnv(const std::filesystem::path& images,
                                      const std::map<std::string, std::string>& env) {
  return CommandRunner::run({binary().string(), "restore", "--images", images.string()}, env,
                            kTimeout);
}

CommandResult CryoCli::show(const std::filesystem::path& images, bool json) {
  std::vector<std::string> argv = {binary().string(), "show", "--images", images.string()};
  if (json) argv.push_back("--json");
  return CommandRunner::run(argv, {}, kTimeout);
}

std::optional<pid_t> CryoCli::restoredPid(const CommandResult& restore) {
  std::string s = restore.out;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  auto nl = s.rfind('\n');
  std::string last = nl == std::string::npos ? s : s.substr(nl + 1);
  if (last.empty()) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(last.c_str(), &end, 10);
  if (*end != '\0' || v <= 0) return std::nullopt;
  return static_cast<pid_t>(v);
}

}  // namespace cryo::test
