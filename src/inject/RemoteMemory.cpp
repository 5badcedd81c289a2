// RemoteMemory: reads and writes another process's memory (process_vm_readv/writev, falling
// back to /proc/PID/mem for pages the process itself may not access, e.g. PROT_NONE).
#include "inject/RemoteMemory.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/Error.h"

namespace cryo {

RemoteMemory::RemoteMemory(pid_t pid) : pid_(pid) {}

void RemoteMemory::procMem(bool write, uint64_t addr, void* buf, size_t len) {
  std::call_once(memOpened_, [&] {
    std::string p = "/proc/" + std::to_string(pid_) + "/mem";
    mem_.reset(::open(p.c_str(), O_RDWR | O_CLOEXEC));
    if (!mem_) memErrno_ = errno;
  });
  if (!mem_) throw SysError(fmt::format("cannot open /proc/{}/mem", pid_), memErrno_);
  auto* b = static_cast<char*>(buf);
  size_t done = 0;
  while (done < len) {
    ssize_t n = write ? ::pwrite(mem_.get(), b + done, len - done, static_cast<off_t>(addr + done))
                      : ::pread(mem_.get(), b + done, len - done, static_cast<off_t>(addr + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      failErrno("pid {}: cannot {} {} bytes at {:#x}", pid_, write ? "write" : "read", len - done,
                addr + done);
    done += static_cast<size_t>(n);
  }
}

void RemoteMemory::read(uint64_t addr, void* buf, size_t len) {
  iovec l{buf, len};
  iovec r{reinterpret_cast<void*>(addr), len};
  ssize_t n = ::process_vm_readv(pid_, &l, 1, &r, 1, 0);
  if (n == static_cast<ssize_t>(len)) return;
  procMem(false, addr, buf, len);
}

void RemoteMemory::write(uint64_t addr, const void* buf, size_t len) {
  iovec l{const_cast<void*>(buf), len};
  iovec r{reinterpret_cast<void*>(addr), len};
  ssize_t n = ::process_vm_writev(pid_, &l, 1, &r, 1, 0);
  if (n == static_cast<ssize_t>(len)) return;
  procMem(true, addr, const_cast<void*>(buf), len);
}

std::vector<uint8_t> RemoteMemory::readBytes(uint64_t addr, size_t len) {
  std::vector<uint8_t> v(len);
  read(addr, v.data(), len);
  return v;
}

// Moves data between matching local/remote iovec lists (each pair the same length) in
// batches of IOV_MAX; a short transfer falls back to single copies for the rest of the batch.
void RemoteMemory::transfer(bool toRemote, const std::vector<iovec>& local,
                            const std::vector<iovec>& remote) {
  constexpr size_t kBatch = 1024;  // IOV_MAX
  for (size_t i = 0; i < remote.size(); i += kBatch) {
    size_t n = std::min(kBatch, remote.size() - i);
    size_t want = 0;
    for (size_t k = 0; k < n; ++k) want += remote[i + k].iov_len;
    ssize_t got = toRemote
                      ? ::process_vm_writev(pid_, local.data() + i, n, remote.data() + i, n, 0)
                      : ::process_vm_readv(pid_, local.data() + i, n, remote.data() + i, n, 0);
    if (got == static_cast<ssize_t>(want)) continue;
    size_t skip = got > 0 ? static_cast<size_t>(got) : 0;
    for (size_t k = 0; k < n; ++k) {
      const iovec& l = local[i + k];
      const iovec& r = remote[i + k];
      if (skip >= r.iov_len) {
        skip -= r.iov_len;
        continue;
      }
      uint64_t addr = reinterpret_cast<uint64_t>(r.iov_base) + skip;
      char* buf = static_cast<char*>(l.iov_base) + skip;
      if (toRemote)
        write(addr, buf, r.iov_len - skip);
      else
        read(addr, buf, r.iov_len - skip);
      skip = 0;
    }
  }
}

void RemoteMemory::readv(const std::vector<iovec>& local, const std::vector<iovec>& remote) {
  transfer(false, local, remote);
}

void RemoteMemory::writev(const std::vector<iovec>& local, const std::vector<iovec>& remote) {
  transfer(true, local, remote);
}

}  // namespace cryo
