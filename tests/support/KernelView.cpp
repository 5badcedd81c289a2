// KernelView: what the kernel shows of a process tree, field by field, for comparing a restored
// tree with the one that was checkpointed.
#include "KernelView.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ProcessControl.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string link(const std::string& path) {
  std::error_code ec;
  fs::path t = fs::read_symlink(path, ec);
  return ec ? "?" : t.string();
}

// "pipe:[123]" -> "pipe", "socket:[9]" -> "socket", "anon_inode:[eventfd]" kept: an inode
// number is not state the task can see the same after a restore.
std::string kindOf(const std::string& target) {
  for (const char* k : {"pipe:[", "socket:["})
    if (target.rfind(k, 0) == 0) return std::string(k, std::char_traits<char>::length(k) - 2);
  return target;
}

// Lines of /proc/PID/status that are state the task owns.
void statusFields(const std::string& prefix, const std::string& text,
                  std::map<std::string, std::string>& out, bool thread) {
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

// /proc/PID/stat: comm, whether a zombie, parent, group, session.
void statFields(pid_t pid, std::map<std::string, std::string>& out) {
  std::string s = slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t open = s.find('('), close = s.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return;
  out["comm"] = s.substr(open + 1, close - open - 1);
  std::istringstream rest(s.substr(close + 2));
  std::string state, ppid, pgrp, session;
  rest >> state >> ppid >> pgrp >> session;
  out["zombie"] = state == "Z" ? "yes" : "no";
  out["ppid"] = ppid;
  out["pgrp"] = pgrp;
  out["session"] = session;
}

// VmFlags that describe the mapping (not "ac", accessed lately, nor the userfaultfd flags of a
// tracker that may follow the task).
std::string stableVmFlags(const std::string& flags) {
  static const std::set<std::string> kVolatile = {"ac", "uw", "um", "ui", "sd"};
  std::istringstream in(flags);
  std::string out;
  for (std::string f; in >> f;)
    if (!kVolatile.count(f)) out += (out.empty() ? "" : " ") + f;
  return out;
}

// One field per mapping, keyed by its range: permissions, offset, path and VmFlags.
void mapFields(pid_t pid, std::map<std::string, std::string>& out) {
  std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/smaps"));
  std::string key;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmFlags:", 0) == 0 && !key.empty()) {
      out[key] += " flags " + stableVmFlags(line.substr(8));
      continue;
    }
    std::istringstream l(line);
    std::string range, perms, offset, dev, inode, path;
    l >> range >> perms >> offset >> dev >> inode;
    if (range.find('-') == std::string::npos || perms.size() != 4) continue;
    std::getline(l, path);
    size_t p = path.find_first_not_of(' ');
    path = p == std::string::npos ? "" : path.substr(p);
    key = "map " + range;
    out[key] = perms + " " + offset + " " + path;
  }
}

// One field per fd: what it refers to, then its fdinfo (flags, position, locks).
void fdFields(pid_t pid, std::map<std::string, std::string>& out) {
  std::string base = "/proc/" + std::to_string(pid);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(base + "/fd", ec)) {
    std::string fd = e.path().filename().string();
    std::string target = link(e.path().string());
    out["fd " + fd] = kindOf(target);
    std::istringstream info(slurp(base + "/fdinfo/" + fd));
    for (std::string line; std::getline(info, line);) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string k = line.substr(0, colon);
      std::string v = line.substr(colon + 1);
      size_t p = v.find_first_not_of(" \t");
      v = p == std::string::npos ? "" : v.substr(p);
      bool isPipeOrSocket = target.rfind("pipe:", 0) == 0 || target.rfind("socket:", 0) == 0;
      if (k == "flags" || k == "lock" || (k == "pos" && !isPipeOrSocket))
        out["fd " + fd + " " + k] += (out.count("fd " + fd + " " + k) ? "; " : "") + v;
    }
  }
}

void limitFields(pid_t pid, std::map<std::string, std::string>& out) {
  std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/limits"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line))
    if (line.size() > 26) out["limit " + line.substr(0, 26)] = line.substr(26);
}

}  // namespace

std::map<std::string, std::string> KernelView::fieldsOf(pid_t pid) {
  std::map<std::string, std::string> f;
  std::string base = "/proc/" + std::to_string(pid);
  statFields(pid, f);
  if (f["zombie"] == "yes") return f;  // a zombie shows nothing else that it owns
  statusFields("", slurp(base + "/status"), f, false);
  f["cwd"] = link(base + "/cwd");
  f["root"] = link(base + "/root");
  f["exe"] = link(base + "/exe");
  limitFields(pid, f);
  mapFields(pid, f);
  fdFields(pid, f);
  for (pid_t tid : ProcessControl::threadIds(pid)) {
    std::string t = "thread " + std::to_string(tid) + " ";
    std::string task = base + "/task/" + std::to_string(tid);
    f[t + "comm"] = slurp(task + "/comm");
    statusFields(t, slurp(task + "/status"), f, true);
    // Inside sigtimedwait, sigsuspend, ppoll, pselect or epoll_pwait the kernel shows the mask
    // the call swapped in, not the thread's own: any value compares equal.
    static const std::set<std::string> kSwapsMask = {"128", "130", "270", "271", "281", "441"};
    std::istringstream sc(slurp(task + "/syscall"));
    std::string nr;
    sc >> nr;
    if (kSwapsMask.count(nr)) f[t + "SigBlk"] = kAny;
  }
  return f;
}

KernelView KernelView::capture(pid_t root) {
  KernelView v;
  v.processes[root] = fieldsOf(root);
  for (pid_t p : ProcessControl::descendants(root)) v.processes[p] = fieldsOf(p);
  return v;
}

std::vector<std::string> KernelView::differences(const KernelView& restored) const {
  std::vector<std::string> out;
  for (const auto& [pid, fields] : processes) {
    auto it = restored.processes.find(pid);
    if (it == restored.processes.end()) {
      out.push_back("pid " + std::to_string(pid) + ": missing after the restore");
      continue;
    }
    const auto& after = it->second;
    for (const auto& [k, v] : fields) {
      if (v == kAny) continue;
      auto a = after.find(k);
      if (a == after.end())
        out.push_back("pid " + std::to_string(pid) + ": " + k + ": '" + v + "' is gone");
      else if (a->second != v)
        out.push_back("pid " + std::to_string(pid) + ": " + k + ": '" + v + "' != '" + a->second + "'");
    }
    for (const auto& [k, v] : after)
      if (!fields.count(k) && v != kAny)
        out.push_back("pid " + std::to_string(pid) + ": " + k + ": '" + v + "' is new");
  }
  for (const auto& [pid, fields] : restored.processes)
    if (!processes.count(pid)) out.push_back("pid " + std::to_string(pid) + ": new after the restore");
  return out;
}

}  // namespace cryo::test
