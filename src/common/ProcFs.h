// ProcFs: typed readers for the /proc files cryo needs (maps, smaps flags, stat, status, fds).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/VmFlags.h"

namespace cryo {

struct MapsEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  bool read = false, write = false, exec = false, shared = false;
  uint64_t offset = 0;
  uint32_t devMajor = 0, devMinor = 0;
  uint64_t inode = 0;
  std::string path;                 // "" for anonymous, "[heap]", "/usr/lib/..." ...
  VmFlags vmFlags;                  // from smaps: "gd", "nr", "dc", ...
  uint64_t size() const { return end - start; }
  bool hasFlag(std::string_view f) const { return vmFlags.has(f); }
  bool deleted() const;             // path ends in " (deleted)"
  bool operator==(const MapsEntry&) const = default;
};

struct ProcStat {
  char state = '?';
  pid_t ppid = 0, pgrp = 0, session = 0;
  int64_t numThreads = 0;
  uint64_t startTime = 0;
  uint64_t startCode = 0, endCode = 0, startStack = 0;
  uint64_t startData = 0, endData = 0, startBrk = 0;
  uint64_t argStart = 0, argEnd = 0, envStart = 0, envEnd = 0;
  int exitSignal = 0;
  int exitCode = 0;  // a zombie's status as wait() reports it (field 52)
  std::string comm;
};

class ProcFs {
 public:
  static std::string path(pid_t pid, const std::string& rest);
  static std::string readFile(const std::string& path);           // throws with the path
  static std::optional<std::string> tryReadFile(const std::string& path);
  static std::string readLink(const std::string& path);           // throws with the path

  static std::vector<MapsEntry> maps(pid_t pid, bool withVmFlags);
  // The mappings with their VmFlags, cheaply: /proc/PID/maps (no page-table walk, unlike
  // smaps), each entry taking its VmFlags from the identical entry (range, protection, offset,
  // file) of `hint`, an smaps listing read earlier. If any entry has no identical one in the
  // hint, the layout changed since: smaps is read after all. `reused` says which happened.
  static std::vector<MapsEntry> mapsWithFlagsFrom(pid_t pid, const std::vector<MapsEntry>& hint,
                                                  bool* reused = nullptr);
  static ProcStat stat(pid_t pid);
  // "Key:\tvalue" lines of /proc/PID/status (or /proc/PID/task/TID/status).
  static std::map<std::string, std::string> status(const std::string& statusPath);
  static std::vector<pid_t> threads(pid_t pid);                   // sorted, main thread first
  static std::vector<int> fds(pid_t pid);                         // sorted
  static std::map<std::string, std::string> fdInfo(pid_t pid, int fd);
  static std::vector<pid_t> children(pid_t pid);                  // of all threads
  // Every process's parent (pid -> ppid), from one pass over /proc: the kernel here may lack
  // /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN).
  static std::map<pid_t, pid_t> parents();
  // Processes and threads created since boot, system-wide ("processes" in /proc/stat).
  static uint64_t forkCount();
  static bool exists(pid_t pid);
  // One line for error messages: "pid 42 (name, state S)" or "pid 42 (zombie of ...)".
  static std::string describe(pid_t pid);
};

}  // namespace cryo
