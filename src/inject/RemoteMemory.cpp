// RemoteMemory: reads and writes another process's memory (process_vm_readv/writev, falling
// back to /proc/PID/mem for pages the process itself may not access, e.g. PROT_NONE); reads
// leave pages shared copy-on-write shared.
#include "inject/RemoteMemory.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/Error.h"

namespace cryo {

namespace {

constexpr uint64_t kPage = 4096;
// Bits of a pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
constexpr uint64_t kPmPresent = 1ULL << 63, kPmSwapped = 1ULL << 62,
                   kPmFileOrShared = 1ULL << 61, kPmExclusive = 1ULL << 56;

// A private anonymous page that may be mapped by another process too: present but not
// exclusively mapped, or swapped out (a swap entry a fork may have shared).
bool cowShared(uint64_t e) {
  if (e & kPmFileOrShared) return false;
  return (e & kPmPresent) ? !(e & kPmExclusive) : (e & kPmSwapped) != 0;
}

}  // namespace

RemoteMemory::RemoteMemory(pid_t pid) : pid_(pid) {}

std::vector<uint64_t> RemoteMemory::pagemapEntries(uint64_t first, uint64_t last) {
  std::call_once(pagemapOpened_, [&] {
    std::string p = "/proc/" + std::to_string(pid_) + "/pagemap";
    pagemap_.reset(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  });
  std::vector<uint64_t> e((last - first) / kPage);
  if (!pagemap_) return {};
  size_t want = e.size() * sizeof(uint64_t), done = 0;
  auto* b = reinterpret_cast<char*>(e.data());
  while (done < want) {
    ssize_t n = ::pread(pagemap_.get(), b + done, want - done,
                        static_cast<off_t>(first / kPage * 8 + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {};
    done += static_cast<size_t>(n);
  }
  return e;
}

void RemoteMemory::splitShared(const iovec& l, const iovec& r, std::vector<iovec>& fastL,
                               std::vector<iovec>& fastR) {
  uint64_t start = reinterpret_cast<uint64_t>(r.iov_base), end = start + r.iov_len;
  if (start == end) return;
  uint64_t first = start & ~(kPage - 1), last = (end + kPage - 1) & ~(kPage - 1);
  std::vector<uint64_t> e = pagemapEntries(first, last);
  auto shared = [&](uint64_t at) { return !e.empty() && cowShared(e[(at - first) / kPage]); };
  for (uint64_t cur = start; cur < end;) {
    bool viaMem = shared(cur);
    uint64_t stop = std::min(end, (cur & ~(kPage - 1)) + kPage);
    while (stop < end && shared(stop) == viaMem) stop = std::min(end, stop + kPage);
    char* buf = static_cast<char*>(l.iov_base) + (cur - start);
    if (viaMem) {
      procMem(false, cur, buf, stop - cur);
    } else {
      fastL.push_back({buf, stop - cur});
      fastR.push_back({reinterpret_cast<void*>(cur), stop - cur});
    }
    cur = stop;
  }
}

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
  readv({{buf, len}}, {{reinterpret_cast<void*>(addr), len}});
}

void RemoteMemory::readDirect(uint64_t addr, void* buf, size_t len) {
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
        readDirect(addr, buf, r.iov_len - skip);
      skip = 0;
    }
  }
}

void RemoteMemory::readv(const std::vector<iovec>& local, const std::vector<iovec>& remote) {
  std::vector<iovec> fastL, fastR;
  fastL.reserve(local.size());
  fastR.reserve(remote.size());
  for (size_t i = 0; i < remote.size(); ++i) splitShared(local[i], remote[i], fastL, fastR);
  transfer(false, fastL, fastR);
}

void RemoteMemory::writev(const std::vector<iovec>& local, const std::vector<iovec>& remote) {
  transfer(true, local, remote);
}

}  // namespace cryo
