// ProcFs: typed readers for the /proc files cryo needs (maps, smaps flags, stat, status, fds).
#include "common/ProcFs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
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

namespace {

// Cursor over one line of /proc text: numbers and words separated by blanks.
struct Fields {
  std::string_view rest;
  void skipBlanks() {
    size_t i = rest.find_first_not_of(" \t");
    rest.remove_prefix(i == std::string_view::npos ? rest.size() : i);
  }
  template <class T>
  bool number(T& v, int base) {
    auto r = std::from_chars(rest.data(), rest.data() + rest.size(), v, base);
    if (r.ec != std::errc{}) return false;
    rest.remove_prefix(static_cast<size_t>(r.ptr - rest.data()));
    return true;
  }
  bool literal(char c) {
    if (rest.empty() || rest.front() != c) return false;
    rest.remove_prefix(1);
    return true;
  }
  std::string_view word() {
    skipBlanks();
    size_t e = rest.find_first_of(" \t");
    std::string_view w = rest.substr(0, e);
    rest.remove_prefix(w.size());
    return w;
  }
};

// "start-end perms offset major:minor inode   path"
bool parseMapsLine(std::string_view line, MapsEntry& e) {
  Fields f{line};
  if (!f.number(e.start, 16) || !f.literal('-') || !f.number(e.end, 16)) return false;
  std::string_view perms = f.word();
  if (perms.size() < 4) return false;
  f.skipBlanks();
  if (!f.number(e.offset, 16)) return false;
  f.skipBlanks();
  if (!f.number(e.devMajor, 16) || !f.literal(':') || !f.number(e.devMinor, 16)) return false;
  f.skipBlanks();
  if (!f.number(e.inode, 10)) return false;
  e.read = perms[0] == 'r';
  e.write = perms[1] == 'w';
  e.exec = perms[2] == 'x';
  e.shared = perms[3] == 's';
  f.skipBlanks();
  e.path.assign(f.rest);
  return true;
}

// Calls fn(line) for every line of text (without its newline).
template <class Fn>
void eachLine(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    fn(line);
  }
}

}  // namespace

std::vector<MapsEntry> ProcFs::maps(pid_t pid, bool withVmFlags) {
  std::string text = readFile(path(pid, withVmFlags ? "smaps" : "maps"));
  std::vector<MapsEntry> out;
  eachLine(text, [&](std::string_view line) {
    if (line.empty()) return;
    if (withVmFlags && line.substr(0, 8) == "VmFlags:") {
      if (!out.empty()) out.back().vmFlags.parse(line.substr(8));
      return;
    }
    // smaps detail lines look like "Rss:   4 kB"; a maps line starts with a hex range.
    if (!std::isxdigit(static_cast<unsigned char>(line[0])) ||
        line.find('-') == std::string_view::npos || line.find(':') < line.find(' '))
      return;
    MapsEntry e;
    if (parseMapsLine(line, e)) out.push_back(std::move(e));
  });
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
  std::vector<std::string_view> f;  // f[0] is field 3 (state)
  Fields rest{std::string_view(text).substr(close + 1)};
  for (std::string_view w = rest.word(); !w.empty(); w = rest.word()) {
    if (w.back() == '\n') w.remove_suffix(1);
    if (!w.empty()) f.push_back(w);
  }
  auto field = [&](int n) -> uint64_t {  // n: 1-based field number as in proc(5)
    size_t i = static_cast<size_t>(n - 3);
    if (i >= f.size()) return 0;
    // Signed fields (a zombie's exit code, priorities) keep their bits as strtoull did.
    bool neg = !f[i].empty() && f[i][0] == '-';
    uint64_t v = 0;
    std::from_chars(f[i].data() + neg, f[i].data() + f[i].size(), v, 10);
    return neg ? uint64_t(0) - v : v;
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
  std::string text = readFile(statusPath);
  eachLine(text, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    size_t v = line.find_first_not_of(" \t", colon + 1);
    // (a key seen twice, as in some fdinfo files, keeps its last value)
    out.insert_or_assign(std::string(line.substr(0, colon)),
                         std::string(v == std::string_view::npos ? std::string_view() : line.substr(v)));
  });
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
