// CryoCli: runs the cryo binary's dump, restore and show commands the way a user would, with optional fault injection.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "CommandRunner.h"

namespace cryo::test {

class CryoCli {
 public:
  // The binary under test (CRYO_BIN, set by the build).
  static std::filesystem::path binary();

  static CommandResult dump(pid_t pid, const std::filesystem::path& images, bool leaveRunning,
                            const std::string& fault = "");
  // `cryo dump` with these flags added (--tcp-close, --leave-running, ...).
  static CommandResult dumpWith(pid_t pid, const std::filesystem::path& images,
                                const std::vector<std::string>& flags);
  static CommandResult restore(const std::filesystem::path& images, const std::string& fault = "");
  // `cryo restore --leave-stopped`.
  static CommandResult restoreStopped(const std::filesystem::path& images);
  // `cryo restore` with these environment variables added (CRYO_LOG, CRYO_TIMER_IDS, ...).
  static CommandResult restoreWithEnv(const std::filesystem::path& images,
                                      const std::map<std::string, std::string>& env);
  static CommandResult show(const std::filesystem::path& images, bool json);

  // The pid `cryo restore` printed as the last line of its stdout.
  static std::optional<pid_t> restoredPid(const CommandResult& restore);

  static constexpr std::chrono::milliseconds kTimeout{30000};
};

}  // namespace cryo::test
