// RemoteMemory: reads and writes another process's memory (process_vm_readv/writev, falling
// back to /proc/PID/mem for pages the process itself may not access, e.g. PROT_NONE).
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
  pid_t pid_;
  UniqueFd mem_;  // opened on first need (several threads may copy at once)
  std::once_flag memOpened_;
  int memErrno_ = 0;
};

}  // namespace cryo
