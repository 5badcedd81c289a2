// FileLocks: the file locks a frozen task holds, read from the "lock:" lines of fdinfo, and
// the refusal of those a restore could not give back as they were.
#include "dump/fds/FileLocks.h"

#include <dirent.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/fds/FdTable.h"
#include "dump/fds/OpenFd.h"

namespace cryo {

namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

uint64_t number(pid_t pid, const OpenFd& f, const std::string& line, const std::string& w) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(w.c_str(), &end, 10);
  if (w.empty() || *end)
    fail("pid {}: fd {} ({}): cannot read the lock line \"{}\" of its fdinfo", pid, f.fd, f.link,
         line);
  return v;
}

// The pids of every process on the system but the tree's and cryo's own.
std::vector<pid_t> outsiders(const std::map<pid_t, FdTable>& tables) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) failErrno("cannot list /proc");
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long p = std::strtol(e->d_name, &end, 10);
    if (p <= 0 || *end || tables.count(static_cast<pid_t>(p)) || p == ::getpid()) continue;
    out.push_back(static_cast<pid_t>(p));
  }
  ::closedir(d);
  return out;
}

std::string comm(pid_t pid) {
  try {
    return ProcFs::stat(pid).comm;
  } catch (const Error&) {
    return "gone";
  }
}

}  // namespace

std::vector<img::FileLock> FileLocks::fromFdInfo(pid_t pid, const OpenFd& f,
                                                 const std::string& fdinfo) {
  std::vector<img::FileLock> out;
  std::istringstream in(fdinfo);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("lock:", 0) != 0) continue;
    size_t v = line.find_first_not_of(" \t", 5);
    out.push_back(parse(pid, f, v == std::string::npos ? "" : line.substr(v)));
  }
  return out;
}

img::FileLock FileLocks::parse(pid_t pid, const OpenFd& f, const std::string& line) {
  std::vector<std::string> w = words(line);
  std::string who = fmt::format("pid {}: fd {} ({}) holds", pid, f.fd, f.link);
  std::string kind = w.size() > 1 ? w[1] : "";
  if (kind == "LEASE" || kind == "DELEG")
    fail("{} a file lease ({}): leases (fcntl F_SETLEASE) are not supported (a restore cannot "
         "give back a lease being broken, nor whom it notifies)",
         who, line);
  if (kind != "POSIX" && kind != "OFDLCK" && kind != "FLOCK")
    fail("{} a file lock of kind {} ({}): only POSIX record locks, OFD locks and flock locks "
         "are supported",
         who, kind.empty() ? "?" : kind, line);
  if (w.size() != 8) fail("{} a file lock cryo cannot read (\"{}\")", who, line);
  if (w[2] != "ADVISORY")
    fail("{} a {} file lock ({}): mandatory locks are not supported (only advisory ones)", who,
         w[2] == "MANDATORY" ? "mandatory" : w[2], line);
  if (w[3] != "READ" && w[3] != "WRITE")
    fail("{} a file lock of type {} ({}): not supported (only READ and WRITE locks)", who, w[3],
         line);
  img::FileLock l;
  l.set_kind(kind == "POSIX" ? img::FileLock::POSIX
             : kind == "OFDLCK" ? img::FileLock::OFD
                                : img::FileLock::FLOCK);
  l.set_write(w[3] == "WRITE");
  l.set_pid(static_cast<int32_t>(std::strtol(w[4].c_str(), nullptr, 10)));
  l.set_start(number(pid, f, line, w[6]));
  if (w[7] == "EOF")
    l.set_to_eof(true);
  else
    l.set_end(number(pid, f, line, w[7]));
  l.set_line(line);
  return l;
}

void FileLocks::refuseSharedOutside(const std::map<pid_t, FdTable>& tables) {
  struct Held {
    pid_t pid;
    const OpenFd* fd;
    const img::FileLock* lock;
  };
  std::map<std::pair<dev_t, ino_t>, std::vector<Held>> byInode;
  for (const auto& [pid, t] : tables)
    for (const OpenFd& f : t.fds())
      for (const auto& l : f.locks)
        if (l.kind() != img::FileLock::POSIX) {
          byInode[{f.st.st_dev, f.st.st_ino}].push_back({pid, &f, &l});
          break;
        }
  if (byInode.empty()) return;
  for (pid_t out : outsiders(tables)) {
    std::vector<int> fds;
    try {
      fds = ProcFs::fds(out);
    } catch (const std::exception&) {
      continue;  // gone, or not ours to look at
    }
    for (int n : fds) {
      struct stat st {};
      if (::stat(ProcFs::path(out, "fd/" + std::to_string(n)).c_str(), &st) != 0) continue;
      auto it = byInode.find({st.st_dev, st.st_ino});
      if (it == byInode.end()) continue;
      for (const Held& h : it->second)
        if (::syscall(SYS_kcmp, out, h.pid, KCMP_FILE, n, h.fd->fd) == 0)
          fail("pid {}: fd {} ({}) holds {} ({}) on an open file description that pid {} ({}), "
               "outside the dumped tree, shares (its fd {}): the lock belongs to the "
               "description, which that process keeps holding, and a restore cannot share a "
               "new description with it: not supported",
               h.pid, h.fd->fd, h.fd->link, describe(*h.lock), h.lock->line(), out,
               comm(out), n);
    }
  }
}

void FileLocks::refuseHeldByMappings(const std::map<pid_t, FdTable>& tables,
                                     const img::Tree& tree) {
  // "maj:min:ino" as /proc/locks shows a file.
  auto key = [](uint64_t dev, uint64_t ino) {
    return fmt::format("{:02x}:{:02x}:{}", major(dev), minor(dev), ino);
  };
  // Reading /proc/locks waits for an RCU grace period (3 to 14 ms here, inside the freeze): it
  // is read only when a process of the tree has a shared mapping of a file, the way a program
  // keeps a locked file after closing its fd (one that keeps it through a private file mapping
  // alone is not detected). The mappings are the dumped ones: reading /proc/PID/maps here
  // would wait for the freeze's scan of the same memory.
  std::map<std::string, std::pair<pid_t, std::string>> mapped;  // key -> a process, its path
  for (const img::Process& p : tree.processes())
    for (const img::Vma& v : p.vmas())
      if (v.kind() == img::Vma::FILE && v.shared())
        mapped.emplace(key(v.file().dev(), v.file().ino()), std::make_pair(p.pid(), v.path()));
  if (mapped.empty()) return;
  std::set<std::pair<pid_t, std::string>> shown;
  for (const auto& [pid, t] : tables)
    for (const OpenFd& f : t.fds())
      for (const auto& l : f.locks)
        if (l.kind() == img::FileLock::FLOCK) shown.insert({l.pid(), key(f.st.st_dev, f.st.st_ino)});
  std::istringstream in(ProcFs::tryReadFile("/proc/locks").value_or(""));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> w = words(line);
    if (w.size() < 6 || w[1] != "FLOCK") continue;  // (blocked requests: "->")
    pid_t pid = static_cast<pid_t>(std::strtol(w[4].c_str(), nullptr, 10));
    if (!tables.count(pid) || shown.count({pid, w[5]})) continue;
    auto it = mapped.find(w[5]);
    if (it != mapped.end())
      fail("pid {} holds a flock lock ({}) that no fd of the dumped tree shows, on {}, which "
           "pid {} maps: the lock is held through the mapping's open file description (its "
           "fd closed after mmap), which a restore does not give back: not supported",
           pid, line, it->second.second, it->second.first);
  }
}

std::string FileLocks::describe(const img::FileLock& l) {
  if (l.kind() == img::FileLock::FLOCK)
    return fmt::format("a flock {} lock", l.write() ? "LOCK_EX" : "LOCK_SH");
  std::string range = l.to_eof() ? fmt::format("bytes {} to the end of the file", l.start())
                                 : fmt::format("bytes {}-{}", l.start(), l.end());
  return fmt::format("{} {} {} lock on {}", l.kind() == img::FileLock::OFD ? "an" : "a",
                     l.kind() == img::FileLock::OFD ? "OFD" : "POSIX",
                     l.write() ? "WRITE" : "READ", range);
}

}  // namespace cryo
