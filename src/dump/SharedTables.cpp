// SharedTables: which processes of a dumped tree share an fd table or fs info (recorded, parent
// to child) and which sharing no restore can recreate (refused by name).
#include "dump/SharedTables.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <vector>

#include "common/Error.h"
#include "dump/ProcessTree.h"

namespace cryo {

namespace {

struct Kind {
  int type;
  const char* what;
  bool restorable;  // shared from parent to child, a restore recreates it
};

constexpr Kind kKinds[] = {
    {KCMP_FILES, "fd table (CLONE_FILES)", true},
    {KCMP_FS, "cwd, root and umask (CLONE_FS)", true},
    {KCMP_SIGHAND, "signal handlers (CLONE_SIGHAND)", false},
    {KCMP_VM, "address space (CLONE_VM)", false}};

}  // namespace

bool SharedTables::same(pid_t a, pid_t b, int type) {
  long r = ::syscall(SYS_kcmp, a, b, type, 0, 0);
  if (r < 0 && errno != ESRCH)
    failErrno("kcmp of pid {} and pid {} (type {})", a, b, type);
  return r == 0;
}

std::map<pid_t, SharedTables::Sharing> SharedTables::find(ProcessTree& tree) {
  std::vector<pid_t> live;
  std::map<pid_t, pid_t> parent;
  for (const ProcessTree::Member& m : tree.members())
    if (!m.zombie()) {
      live.push_back(m.pid);
      parent[m.pid] = m.stat.ppid;
    }
  std::map<pid_t, Sharing> out;
  if (live.empty()) return out;
  // The root shares nothing with its parent (outside the tree: a restore gives it another).
  pid_t root = live.front();
  for (const Kind& k : kKinds)
    if (parent[root] > 0 && same(root, parent[root], k.type))
      fail("pid {} shares one {} with its parent pid {}, outside the dumped tree: sharing it "
           "with a process outside the tree is not supported",
           root, k.what, parent[root]);
  for (size_t i = 1; i < live.size(); ++i) {
    pid_t pid = live[i], pp = parent[pid];
    bool parentLive = parent.count(pp) != 0;
    for (const Kind& k : kKinds) {
      bool withParent = parentLive && same(pid, pp, k.type);
      for (size_t j = 0; j < i; ++j) {
        if (!same(pid, live[j], k.type)) continue;
        if (!k.restorable)
          fail("pid {} and pid {} share one {}: processes sharing it are not supported",
               live[j], pid, k.what);
        if (!withParent)
          fail("pid {} and pid {} share one {}, but pid {} does not share it with its parent "
               "pid {}: only a table shared from parent to child can be restored; sharing it "
               "otherwise is not supported",
               live[j], pid, k.what, pid, pp);
      }
      if (withParent && k.type == KCMP_FILES) out[pid].files = pp;
      if (withParent && k.type == KCMP_FS) out[pid].fs = pp;
    }
  }
  return out;
}

void SharedTables::record(const std::map<pid_t, Sharing>& found, img::Tree& tree) {
  for (img::Process& p : *tree.mutable_processes()) {
    auto it = found.find(p.pid());
    if (it == found.end()) continue;
    p.set_files_shared_with(it->second.files);
    p.set_fs_shared_with(it->second.fs);
  }
}

void SharedTables::checkLocks(const img::Tree& tree) {
  // Each process's fd-table group: the process at the top of its files_shared_with chain.
  std::map<pid_t, pid_t> top;
  for (const img::Process& p : tree.processes())
    top[p.pid()] = p.files_shared_with() ? top[p.files_shared_with()] : p.pid();
  std::map<pid_t, std::set<pid_t>> members;
  for (const auto& [pid, t] : top) members[t].insert(pid);
  for (const img::Process& p : tree.processes()) {
    const std::set<pid_t>& group = members[top[p.pid()]];
    for (const auto& d : p.files())
      for (const auto& l : d.locks())
        if (l.kind() == img::FileLock::POSIX && !group.count(l.pid()))
          fail("pid {}: {} holds a POSIX lock ({}) taken by pid {}, which shared its fd table "
               "and is gone or outside the tree: a lock of a shared fd table taken by a "
               "process the restore does not recreate is not supported",
               p.pid(), d.description(), l.line(), l.pid());
  }
}

}  // namespace cryo
