// KernelView: what the kernel shows of a process tree, field by field, for comparing a restored
// tree with the one that was checkpointed.
#include "verify/KernelView.h"

#include <linux/kcmp.h>
#include <netinet/tcp.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include <fmt/format.h>

#include "common/SockDiag.h"

namespace cryo {

namespace {

std::string slurp(const std::string& path) { return ProcFs::tryReadFile(path).value_or(""); }

// A UNIX listening socket ("socket:[INODE]"): how many connections wait in its backlog, not
// accepted yet (sock_diag).
void backlogField(const std::string& target, const std::string& fd, KernelView::Fields& out) {
  uint64_t ino = std::strtoull(target.c_str() + 8, nullptr, 10);
  std::optional<UnixDiag> u;
  try {
    u = SockDiag().unixSocket(ino);
  } catch (const std::exception&) {
    out[fd + " backlog"] = "? (sock_diag failed)";
    return;
  }
  if (u && u->state == TCP_LISTEN) out[fd + " backlog"] = std::to_string(u->icons.size());
}

std::string link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "?" : std::string(buf, static_cast<size_t>(n));
}

// "pipe:[123]" -> "pipe", "socket:[9]" -> "socket", "anon_inode:[eventfd]" kept: an inode
// number is not state the task can see the same after a restore.
std::string kindOf(const std::string& target) {
  for (const char* k : {"pipe:[", "socket:["})
    if (target.rfind(k, 0) == 0) return std::string(k, std::char_traits<char>::length(k) - 2);
  return target;
}

// The VmFlags that describe the mapping: not the ones VmFlags::Role calls the kernel's
// accounting ("ac") or cryo's own dirty-page tracking ("sd", "uw"; a tracker may follow the
// task), nor the task's own userfaultfd ("um", "ui"; refused at the dump anyway).
std::string stableVmFlags(const VmFlags& flags) {
  std::string out;
  for (const std::string& f : flags.list()) {
    VmFlags::Role r = VmFlags::role(f);
    if (r == VmFlags::Role::kAccounting || r == VmFlags::Role::kTracking || f == "um" ||
        f == "ui")
      continue;
    out += (out.empty() ? "" : " ") + f;
  }
  return out;
}

// A lock line of fdinfo ("1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF") without its
// position in the list and the file's device and inode (the fd's own field names the file;
// a deleted file or a pipe comes back as another inode): "POSIX ADVISORY WRITE 1234 0 EOF".
std::string stableLock(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  std::string out;
  for (size_t i = 1; i < words.size(); ++i) {
    if (i == 5) continue;  // dev:ino
    out += (out.empty() ? "" : " ") + words[i];
  }
  return out;
}

}  // namespace

// /proc/PID/stat: comm, whether a zombie, parent, group, session.
void KernelView::identityFields(pid_t pid, Fields& out) {
  std::string s = slurp(ProcFs::path(pid, "stat"));
  size_t open = s.find('('), close = s.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 > s.size()) {
    out["gone"] = "yes";
    return;
  }
  out["comm"] = s.substr(open + 1, close - open - 1);
  std::istringstream rest(s.substr(close + 2));
  std::string state, ppid, pgrp, session;
  rest >> state >> ppid >> pgrp >> session;
  out["zombie"] = state == "Z" ? "yes" : "no";
  out["ppid"] = ppid;
  out["pgrp"] = pgrp;
  out["session"] = session;
}

// What the process shares with its parent without being a thread of it (clone flags): its fd
// table, cwd/root/umask, signal handlers, address space.
void KernelView::sharingFields(pid_t pid, pid_t ppid, Fields& out) {
  static const std::pair<int, const char*> kShared[] = {
      {KCMP_FILES, "files"}, {KCMP_FS, "fs"}, {KCMP_SIGHAND, "sighand"}, {KCMP_VM, "vm"}};
  std::string shared;
  for (const auto& [type, name] : kShared)
    if (ppid > 0 && ::syscall(SYS_kcmp, pid, ppid, type, 0, 0) == 0)
      shared += std::string(shared.empty() ? "" : " ") + name;
  out["shared with parent"] = shared.empty() ? "none" : shared;
}

// Lines of /proc/PID/status that are state the task owns.
void KernelView::statusFields(const std::string& prefix, const std::string& text, Fields& out,
                              bool thread) {
  static const std::set<std::string> kProcess = {
      "Umask", "Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp", "SigIgn", "SigCgt",
      "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
  // (Pending signals are left out: a timer of the task may raise one between two looks.)
  static const std::set<std::string> kThread = {"SigBlk", "Cpus_allowed_list"};
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    if (!(thread ? kThread : kProcess).count(key)) continue;
    size_t v = line.find_first_not_of(" \t", colon + 1);
    out[prefix + key] = v == std::string::npos ? "" : line.substr(v);
  }
}

void KernelView::limitFields(pid_t pid, Fields& out) {
  std::istringstream in(slurp(ProcFs::path(pid, "limits")));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line))
    if (line.size() > 26) out["limit " + line.substr(0, 26)] = line.substr(26);
}

// One field per mapping, keyed by its range: permissions, offset, path and VmFlags.
void KernelView::mapFields(const std::vector<MapsEntry>& maps, Fields& out) {
  for (const MapsEntry& m : maps) {
    std::string perms = {m.read ? 'r' : '-', m.write ? 'w' : '-', m.exec ? 'x' : '-',
                         m.shared ? 's' : 'p'};
    out[fmt::format("map {:x}-{:x}", m.start, m.end)] =
        fmt::format("{} {:08x} {} flags {}", perms, m.offset, m.path, stableVmFlags(m.vmFlags));
  }
}

// One field per fd: what it refers to (and a UNIX listener's backlog), then its fdinfo (flags,
// position, locks, files in flight).
void KernelView::fdFields(pid_t pid, Fields& out) {
  std::vector<int> fds;
  try {
    fds = ProcFs::fds(pid);
  } catch (const std::exception&) {
    return;  // gone: the identity fields say so
  }
  for (int n : fds) {
    std::string fd = "fd " + std::to_string(n);
    std::string target = link(ProcFs::path(pid, "fd/" + std::to_string(n)));
    out[fd] = kindOf(target);
    if (target.rfind("socket:[", 0) == 0) backlogField(target, fd, out);
    bool pipeOrSocket = target.rfind("pipe:", 0) == 0 || target.rfind("socket:", 0) == 0;
    std::istringstream info(slurp(ProcFs::path(pid, "fdinfo/" + std::to_string(n))));
    std::multiset<std::string> locks;  // listed in the order they were taken: sorted
    for (std::string line; std::getline(info, line);) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string k = line.substr(0, colon);
      std::string v = line.substr(colon + 1);
      size_t p = v.find_first_not_of(" \t");
      v = p == std::string::npos ? "" : v.substr(p);
      // (Inotify watches, "inotify wd:1 ino:... mask:...": one field, every watch.)
      if (k == "lock") {
        locks.insert(stableLock(v));
        continue;
      }
      // (scm_fds: the files in flight in a UNIX socket's queue, or in its backlog's.)
      if (k == "flags" || (k == "pos" && !pipeOrSocket) || k == "scm_fds" ||
          k == "inotify wd") {
        std::string key = fd + " " + k;
        out[key] += (out.count(key) && !out[key].empty() ? "; " : "") + v;
      }
    }
    for (const std::string& l : locks) {
      std::string& all = out[fd + " lock"];
      all += (all.empty() ? "" : "; ") + l;
    }
  }
}

// Which fds and mappings of files deleted while open or mapped are one file: a restore makes
// such a file again with another inode number, but as one file for all of them. One field,
// the groups in the order their first member is listed: "fd 3 = map 7f00-7f10; fd 5".
void KernelView::deletedFileFields(pid_t pid, const std::vector<MapsEntry>& maps, Fields& out) {
  std::vector<std::pair<std::pair<dev_t, ino_t>, std::string>> seen;
  static const std::string kDeleted = " (deleted)";
  auto add = [&](const std::string& shown, const std::string& proc, const std::string& name) {
    if (shown.size() <= kDeleted.size() || shown[0] != '/' ||
        shown.compare(shown.size() - kDeleted.size(), kDeleted.size(), kDeleted) != 0 ||
        shown.rfind("/memfd:", 0) == 0 || shown.rfind("/dev/zero", 0) == 0 ||
        shown.rfind("/SYSV", 0) == 0)
      return;  // (not a deleted file: shared memory objects show so too)
    struct stat st {};
    if (::stat(ProcFs::path(pid, proc).c_str(), &st) != 0) return;
    seen.push_back({{st.st_dev, st.st_ino}, name});
  };
  std::vector<int> fds;
  try {
    fds = ProcFs::fds(pid);
  } catch (const std::exception&) {
  }
  for (int n : fds)
    add(link(ProcFs::path(pid, "fd/" + std::to_string(n))), "fd/" + std::to_string(n),
        "fd " + std::to_string(n));
  for (const MapsEntry& m : maps)
    add(m.path, fmt::format("map_files/{:x}-{:x}", m.start, m.end),
        fmt::format("map {:x}-{:x}", m.start, m.end));
  std::string groups;
  std::set<size_t> done;
  for (size_t i = 0; i < seen.size(); ++i) {
    if (done.count(i)) continue;
    groups += groups.empty() ? "" : "; ";
    groups += seen[i].second;
    for (size_t j = i + 1; j < seen.size(); ++j)
      if (seen[j].first == seen[i].first && done.insert(j).second) groups += " = " + seen[j].second;
  }
  if (!groups.empty()) out["deleted files"] = groups;
}

void KernelView::threadFields(pid_t pid, Fields& out, bool state) {
  std::vector<pid_t> tids;
  try {
    tids = ProcFs::threads(pid);
  } catch (const std::exception&) {
    return;
  }
  for (pid_t tid : tids) {
    std::string t = "thread " + std::to_string(tid) + " ";
    std::string task = ProcFs::path(pid, "task/" + std::to_string(tid));
    out[t + "comm"] = slurp(task + "/comm");
    if (!state) continue;
    statusFields(t, slurp(task + "/status"), out, true);
    // Inside sigtimedwait, sigsuspend, ppoll, pselect or epoll_pwait the kernel shows the mask
    // the call swapped in, not the thread's own: any value compares equal.
    static const std::set<std::string> kSwapsMask = {"128", "130", "270", "271", "281", "441"};
    std::istringstream sc(slurp(task + "/syscall"));
    std::string nr;
    sc >> nr;
    if (kSwapsMask.count(nr)) out[t + "SigBlk"] = kAny;
  }
}

KernelView::Fields KernelView::ofProcess(pid_t pid) {
  std::vector<MapsEntry> maps;
  try {
    maps = ProcFs::maps(pid, true);
  } catch (const std::exception&) {
    // a zombie has none; a process gone shows as such below
  }
  return ofProcess(pid, maps);
}

KernelView::Fields KernelView::ofProcess(pid_t pid, const std::vector<MapsEntry>& maps,
                                         bool threadState) {
  Fields f;
  identityFields(pid, f);
  if (f.count("gone") || f["zombie"] == "yes") return f;  // a zombie shows nothing it owns
  statusFields("", slurp(ProcFs::path(pid, "status")), f, false);
  sharingFields(pid, static_cast<pid_t>(std::strtol(f["ppid"].c_str(), nullptr, 10)), f);
  f["cwd"] = link(ProcFs::path(pid, "cwd"));
  f["root"] = link(ProcFs::path(pid, "root"));
  f["exe"] = link(ProcFs::path(pid, "exe"));
  limitFields(pid, f);
  mapFields(maps, f);
  fdFields(pid, f);
  deletedFileFields(pid, maps, f);
  threadFields(pid, f, threadState);
  return f;
}

KernelView KernelView::capture(pid_t root) {
  KernelView v;
  v.processes[root] = ofProcess(root);
  std::map<pid_t, pid_t> parents = ProcFs::parents();
  std::set<pid_t> in{root};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, pp] : parents)
      if (in.count(pp) && in.insert(pid).second) {
        v.processes[pid] = ofProcess(pid);
        grew = true;
      }
  }
  return v;
}

std::vector<std::string> KernelView::differences(pid_t pid, const Fields& recorded,
                                                 const Fields& restored) {
  std::vector<std::string> out;
  std::string p = "pid " + std::to_string(pid) + ": ";
  for (const auto& [k, v] : recorded) {
    if (v == kAny) continue;
    auto a = restored.find(k);
    if (a == restored.end())
      out.push_back(p + k + ": '" + v + "' is gone");
    else if (a->second != v && a->second != kAny)
      out.push_back(p + k + ": '" + v + "' != '" + a->second + "'");
  }
  for (const auto& [k, v] : restored)
    if (!recorded.count(k) && v != kAny) out.push_back(p + k + ": '" + v + "' is new");
  return out;
}

std::vector<std::string> KernelView::differences(const KernelView& restored) const {
  std::vector<std::string> out;
  for (const auto& [pid, fields] : processes) {
    auto it = restored.processes.find(pid);
    if (it == restored.processes.end()) {
      out.push_back("pid " + std::to_string(pid) + ": missing after the restore");
      continue;
    }
    for (std::string& d : differences(pid, fields, it->second)) out.push_back(std::move(d));
  }
  for (const auto& [pid, fields] : restored.processes)
    if (!processes.count(pid)) out.push_back("pid " + std::to_string(pid) + ": new after the restore");
  return out;
}

}  // namespace cryo
