// TreeFiles: the kernel objects a tree restore shares between its processes, held by cryo
// under a key naming what each is.
#include "restore/TreeFiles.h"

#include <sys/shm.h>

#include <algorithm>
#include <fstream>

#include "common/Error.h"

namespace cryo {

int TreeFiles::get(const std::string& key) const {
  auto it = objects_.find(key);
  return it == objects_.end() ? -1 : it->second.get();
}

void TreeFiles::put(const std::string& key, UniqueFd fd) { objects_.emplace(key, std::move(fd)); }

UniqueFd TreeFiles::take(const std::string& key) {
  auto it = objects_.find(key);
  return it == objects_.end() ? UniqueFd() : std::move(it->second);
}

uint64_t TreeFiles::sharedSize(uint64_t ino) const {
  auto it = sizes_.find(ino);
  return it == sizes_.end() ? 0 : it->second;
}

void TreeFiles::noteSharedSize(uint64_t ino, uint64_t size) {
  uint64_t& s = sizes_[ino];
  if (size > s) s = size;
}

void TreeFiles::ensureSysv(const img::SysvShm& seg, const std::string& who) {
  if (!sysvSeen_.insert(seg.shmid()).second) return;
  if (seg.removed()) sysvRemoved_.insert(seg.shmid());
  shmid_ds ds{};
  if (::shmctl(seg.shmid(), IPC_STAT, &ds) == 0) {
    if (ds.shm_segsz != seg.size())
      fail("{}: System V segment {} exists here with {} bytes, the checkpoint's had {}", who,
           seg.shmid(), ds.shm_segsz, seg.size());
    return;
  }
  // Made again with the same id: the kernel hands out kernel.shm_next_id to the next shmget.
  {
    std::ofstream next("/proc/sys/kernel/shm_next_id");
    next << seg.shmid();
    next.close();
    if (!next) fail("{}: cannot set kernel.shm_next_id to recreate System V segment {}", who,
                    seg.shmid());
  }
  key_t key = seg.removed() ? IPC_PRIVATE : static_cast<key_t>(seg.key());
  int id = ::shmget(key, seg.size(), IPC_CREAT | IPC_EXCL | static_cast<int>(seg.mode() & 0777));
  if (id < 0)
    failErrno("{}: cannot recreate System V segment {} (key {:#x}, {} bytes)", who, seg.shmid(),
              seg.key(), seg.size());
  if (id != seg.shmid()) {
    ::shmctl(id, IPC_RMID, nullptr);
    fail("{}: System V segment {} came back as {}", who, seg.shmid(), id);
  }
  sysvMade_.insert(id);
}

void TreeFiles::commit() {
  for (int id : sysvRemoved_)
    if (::shmctl(id, IPC_RMID, nullptr) != 0)
      failErrno("cannot mark System V segment {} removed again (IPC_RMID)", id);
  committed_ = true;
}

TreeFiles::~TreeFiles() {
  if (committed_) return;
  for (int id : sysvMade_) ::shmctl(id, IPC_RMID, nullptr);
}

}  // namespace cryo
