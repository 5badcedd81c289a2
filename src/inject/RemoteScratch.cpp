// RemoteScratch: a small private mapping inside a traced process that holds the in/out
// arguments of injected syscalls (paths, structs); a bump allocator reset between uses.
#include "inject/RemoteScratch.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <spdlog/spdlog.h>

#include "common/Error.h"

namespace cryo {

RemoteScratch::RemoteScratch(RemoteSyscalls& rs, RemoteMemory& mem, uint64_t size,
                             uint64_t fixedAddr)
    : rs_(&rs), mem_(mem), size_(size) {
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (fixedAddr ? MAP_FIXED_NOREPLACE : 0);
  addr_ = rs.check(fmt::format("mmap of a {}-byte scratch area", size), SYS_mmap, fixedAddr, size,
                   PROT_READ | PROT_WRITE, static_cast<uint64_t>(flags),
                   static_cast<uint64_t>(-1), 0);
  if (fixedAddr && addr_ != fixedAddr) {
    rs.call(SYS_munmap, addr_, size);
    fail("{}: scratch area landed at {:#x}, wanted {:#x}", rs.thread().who(), addr_, fixedAddr);
  }
}

RemoteScratch::RemoteScratch(RemoteMemory& mem, uint64_t addr, uint64_t size)
    : rs_(nullptr), mem_(mem), addr_(addr), size_(size), kept_(true) {}

RemoteScratch::~RemoteScratch() {
  if (kept_ || !rs_ || !rs_->thread().attached()) return;
  try {
    rs_->check("munmap of the scratch area", SYS_munmap, addr_, size_);
  } catch (const std::exception& e) {
    spdlog::error("could not remove the scratch area at {:#x}: {}", addr_, e.what());
  }
}

uint64_t RemoteScratch::alloc(size_t len) {
  uint64_t start = (used_ + 15) & ~uint64_t(15);
  if (start + len > size_) fail("scratch area of {} bytes is too small for {} more", size_, len);
  used_ = start + len;
  return addr_ + start;
}

uint64_t RemoteScratch::put(const void* data, size_t len) {
  uint64_t a = alloc(len);
  mem_.write(a, data, len);
  return a;
}

uint64_t RemoteScratch::putString(const std::string& s) { return put(s.c_str(), s.size() + 1); }

}  // namespace cryo
