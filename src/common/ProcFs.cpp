// ProcFs: typed readers for the /proc files cryo needs (maps, smaps flags, stat, status, fds).
#include "common/ProcFs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "common/Error.h"
#include "common/UniqueFd.h"

namespace cryo {

bool MapsEntry::deleted() const {
  static const std::string kSuffix = " (deleted)";
  return path.size() > kSuffix.size() &&
         path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

std::string ProcFs::path(pid_t pid, const std::string& rest) {
  return "/proc/" + std::to_string(pid) + "/" + rest;
}

std::optional<std::string> ProcFs::tryReadFile(const std::string& p) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string ProcFs::readFile(const std::string& p) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) failErrno("cannot open {}", p);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      failErrno("cannot read {}", p);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string ProcFs::readLink(const std::string& p) {
  char buf[4096];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  if (n < 0) failErrno("cannot read link {}", p);
  return std::string(buf, static_cast<size_t>(n));
}

static bool parseMapsLine(const std::string& line, MapsEntry& e) {
  // start-end perms offset dev inode path
  unsigned long long start, end, off, ino;
  char perms[8] = {};
  unsigned maj, min;
  int consumed = 0;
  if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off,
                  &maj, &min, &ino, &consumed) < 7)
    return false;
  e.start = start;
  e.end = end;
  e.read = perms[0] == 'r';
  e.write = perms[1] == 'w';
  e.exec = perms[2] == 'x';
  e.shared = perms[3] == 's';
  e.offset = off;
  e.devMajor = maj;
  e.devMinor = min;
  e.inode = ino;
  e.path = consumed > 0 && static_cast<size_t>(consumed) <= line.size() ? line.substr(consumed)
                                                                         : std::string();
  return true;
}

std::vector<MapsEntry> ProcFs::maps(pid_t pid, bool withVmFlags) {
  std::string text = readFile(path(pid, withVmFlags ? "smaps" : "maps"));
  std::vector<MapsEntry> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (withVmFlags && line.rfind("VmFlags:", 0) == 0) {
      if (out.empty()) continue;
      std::istringstream fl(line.substr(8));
      std::string f;
      while (fl >> f) out.back().vmFlags.insert(f);
      continue;
    }
    // smaps detail lines look like "Rss:   4 kB"; a maps line starts with a hex range.
    if (!std::isxdigit(static_cast<unsigned char>(line[0])) ||
        line.find('-') == std::string::npos || line.find(':') < line.find(' '))
      continue;
    MapsEntry e;
    if (parseMapsLine(line, e)) out.push_back(std::move(e));
  }
  return out;
}

std::vector<MapsEntry> ProcFs::mapsWithFlagsFrom(pid_t pid, const std::vector<MapsEntry>& hint,
                                                 bool* reused) {
  auto same = [](const MapsEntry& a, const MapsEntry& b) {
    return a.start == b.start && a.end == b.end && a.read == b.read && a.write == b.write &&
           a.exec == b.exec && a.shared == b.shared && a.offset == b.offset &&
           a.devMajor == b.devMajor && a.devMinor == b.devMinor && a.inode == b.inode &&
           a.path == b.path;
  };
  std::vector<MapsEntry> out = maps(pid, false);
  size_t h = 0;
  for (MapsEntry& e : out) {
    while (h < hint.size() && hint[h].end <= e.start) ++h;  // both listings are sorted
    if (h == hint.size() || !same(hint[h], e)) {
      if (reused) *reused = false;
      return maps(pid, true);
    }
    e.vmFlags = hint[h].vmFlags;
  }
  if (reused) *reused = true;
  return out;
}

ProcStat ProcFs::stat(pid_t pid) {
  std::string text = readFile(path(pid, "stat"));
  ProcStat s;
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open)
    fail("unexpected format of /proc/{}/stat", pid);
  s.comm = text.substr(open + 1, close - open - 1);
  std::istringstream in(text.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  std::string tok;
  while (in >> tok) f.push_back(tok);
  auto field = [&](int n) -> uint64_t {  // n: 1-based field number as in proc(5)
    size_t i = static_cast<size_t>(n - 3);
    return i < f.size() ? std::strtoull(f[i].c_str(), nullptr, 10) : 0;
  };
  s.state = f.empty() ? '?' : f[0][0];
  s.ppid = static_cast<pid_t>(field(4));
  s.pgrp = static_cast<pid_t>(field(5));
  s.session = static_cast<pid_t>(field(6));
  s.numThreads = static_cast<int64_t>(field(20));
  s.startTime = field(22);
  s.startCode = field(26);
  s.endCode = field(27);
  s.startStack = field(28);
  s.exitSignal = static_cast<int>(field(38));
  s.startData = field(45);
  s.endData = field(46);
  s.startBrk = field(47);
  s.argStart = field(48);
  s.argEnd = field(49);
  s.envStart = field(50);
  s.envEnd = field(51);
  s.exitCode = static_cast<int>(field(52));
  return s;
}

std::map<std::string, std::string> ProcFs::status(const std::string& statusPath) {
  std::map<std::string, std::string> out;
  std::istringstream in(readFile(statusPath));
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = line.find_first_not_of(" \t", colon + 1);
    out[line.substr(0, colon)] = v == std::string::npos ? "" : line.substr(v);
  }
  return out;
}

static std::vector<long> numericEntries(const std::string& dir) {
  std::vector<long> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) failErrno("cannot list {}", dir);
  while (dirent* e = ::readdir(d)) {
    char* endp = nullptr;
    long v = std::strtol(e->d_name, &endp, 10);
    if (endp && *endp == '\0' && e->d_name[0] != '\0') out.push_back(v);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<pid_t> ProcFs::threads(pid_t pid) {
  std::vector<pid_t> out;
  for (long t : numericEntries(path(pid, "task"))) out.push_back(static_cast<pid_t>(t));
  auto it = std::find(out.begin(), out.end(), pid);
  if (it != out.end()) std::rotate(out.begin(), it, it + 1);
  return out;
}

std::vector<int> ProcFs::fds(pid_t pid) {
  std::vector<int> out;
  for (long f : numericEntries(path(pid, "fd"))) out.push_back(static_cast<int>(f));
  return out;
}

std::map<std::string, std::string> ProcFs::fdInfo(pid_t pid, int fd) {
  return status(path(pid, "fdinfo/" + std::to_string(fd)));
}

std::vector<pid_t> ProcFs::children(pid_t pid) {
  std::vector<pid_t> out;
  bool listed = false;
  for (pid_t tid : threads(pid)) {
    auto text = tryReadFile(path(pid, "task/" + std::to_string(tid) + "/children"));
    if (!text) continue;
    listed = true;
    std::istringstream in(*text);
    pid_t c;
    while (in >> c) out.push_back(c);
  }
  if (!listed)
    for (const auto& [child, parent] : parents())
      if (parent == pid) out.push_back(child);
  std::sort(out.begin(), out.end());
  return out;
}

std::map<pid_t, pid_t> ProcFs::parents() {
  std::map<pid_t, pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) failErrno("cannot list /proc");
  while (dirent* e = ::readdir(d)) {
    char* endp = nullptr;
    long pid = std::strtol(e->d_name, &endp, 10);
    if (pid <= 0 || *endp) continue;
    auto text = tryReadFile(fmt::format("/proc/{}/stat", pid));
    if (!text) continue;  // gone meanwhile
    size_t close = text->rfind(')');
    if (close == std::string::npos || close + 4 >= text->size()) continue;
    // ") S PPID ...": state, then the parent.
    out[static_cast<pid_t>(pid)] =
        static_cast<pid_t>(std::strtol(text->c_str() + close + 4, nullptr, 10));
  }
  ::closedir(d);
  return out;
}

uint64_t ProcFs::forkCount() {
  std::string text = readFile("/proc/stat");
  auto p = text.find("\nprocesses ");
  if (p == std::string::npos) fail("/proc/stat has no \"processes\" line");
  return std::strtoull(text.c_str() + p + 11, nullptr, 10);
}

bool ProcFs::exists(pid_t pid) { return ::access(path(pid, "stat").c_str(), F_OK) == 0; }

std::string ProcFs::describe(pid_t pid) {
  try {
    ProcStat s = stat(pid);
    std::string what = s.state == 'Z' ? "a zombie" : "a live process";
    return fmt::format("pid {} is held by {} ({}, state {}, parent {})", pid, what, s.comm,
                       s.state, s.ppid);
  } catch (const Error&) {
    // Not a thread-group leader: maybe a thread of another process.
    return fmt::format("pid {} is held by a thread of another process", pid);
  }
}

}  // namespace cryo
