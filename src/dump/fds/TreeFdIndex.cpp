// TreeFdIndex: the fd tables of every frozen process of a dumped tree, with the open file
// descriptions they share matched across processes (kcmp).
#include "dump/fds/TreeFdIndex.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/Error.h"
#include "dump/fds/FileLocks.h"

namespace cryo {

TreeFdIndex::TreeFdIndex(const std::vector<pid_t>& pids) {
  struct First {
    pid_t pid;
    int fd;
    uint32_t description;
  };
  // Descriptions seen so far, by inode: candidates for kcmp.
  std::map<std::pair<dev_t, ino_t>, std::vector<First>> seen;
  uint64_t nextId = 1;
  for (pid_t pid : pids) {
    FdTable& t = tables_.emplace(pid, FdTable::read(pid)).first->second;
    std::set<uint32_t> done;
    for (const OpenFd& f : t.fds()) {
      inodes_.insert(f.st.st_ino);
      if (S_ISFIFO(f.st.st_mode)) {
        uint32_t acc = f.flags & O_ACCMODE;
        if (acc == O_RDONLY || acc == O_RDWR) readers_.insert(f.st.st_ino);
        if (acc == O_WRONLY || acc == O_RDWR) writers_.insert(f.st.st_ino);
      }
      if (!done.insert(f.description).second) continue;
      auto& cands = seen[{f.st.st_dev, f.st.st_ino}];
      for (const First& c : cands) {
        if (c.pid == pid) continue;
        if (::syscall(SYS_kcmp, c.pid, pid, KCMP_FILE, c.fd, f.fd) != 0) continue;
        uint64_t& id = treeIds_[{c.pid, c.description}];
        if (!id) id = nextId++;
        treeIds_[{pid, f.description}] = id;
        break;
      }
      cands.push_back({pid, f.fd, f.description});
    }
  }
  FileLocks::refuseSharedOutside(tables_);
}

const FdTable& TreeFdIndex::table(pid_t pid) const {
  auto it = tables_.find(pid);
  if (it == tables_.end()) fail("pid {} is not a process of the dumped tree", pid);
  return it->second;
}

uint64_t TreeFdIndex::treeId(pid_t pid, uint32_t description) const {
  auto it = treeIds_.find({pid, description});
  return it == treeIds_.end() ? 0 : it->second;
}

}  // namespace cryo
