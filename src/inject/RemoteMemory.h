// RemoteMemory: reads and writes another process's memory (process_vm_readv/writev, falling
// back to /proc/PID/mem for pages the process itself may not access, e.g. PROT_NONE). Reads
// leave copy-on-write sharing as it is: private anonymous pages that other processes share
// (after a fork) are read through /proc/PID/mem, because process_vm_readv pins what it reads
// and the kernel then gives the process a copy of its own of each such page.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "common/UniqueFd.h"

namespace cryo {

class RemoteMemory {
 public:
  explicit RemoteMemory(pid_t pid);

  void read(uint64_t addr, void* buf, size_t len);
  void write(uint64_t addr, const void* buf, size_t len);
  // Scatter read: local[i] <- remote[i]; all of it or throws.
  void readv(const std::vector<iovec>& local, const std::vector<iovec>& remote);
  void writev(const std::vector<iovec>& local, const std::vector<iovec>& remote);

  template <typename T>
  T readValue(uint64_t addr) {
    T v{};
    read(addr, &v, sizeof v);
    return v;
  }
  std::vector<uint8_t> readBytes(uint64_t addr, size_t len);

  pid_t pid() const { return pid_; }

 private:
  void transfer(bool toRemote, const std::vector<iovec>& local,
                const std::vector<iovec>& remote);
  void procMem(bool write, uint64_t addr, void* buf, size_t len);
  // process_vm_readv of pages known not to be shared copy-on-write (else /proc/PID/mem).
  void readDirect(uint64_t addr, void* buf, size_t len);
  // Reads `r` into `l`: the copy-on-write shared pages through /proc/PID/mem at once, the
  // rest appended to (fastL, fastR) for process_vm_readv.
  void splitShared(const iovec& l, const iovec& r, std::vector<iovec>& fastL,
                   std::vector<iovec>& fastR);
  // The pagemap entries of the pages [first, last) (page-aligned); empty if unreadable.
  std::vector<uint64_t> pagemapEntries(uint64_t first, uint64_t last);
  pid_t pid_;
  UniqueFd mem_;  // opened on first need (several threads may copy at once)
  std::once_flag memOpened_;
  int memErrno_ = 0;
  UniqueFd pagemap_;
  std::once_flag pagemapOpened_;
};

}  // namespace cryo
