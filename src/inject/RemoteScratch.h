// RemoteScratch: a small private mapping inside a traced process that holds the in/out
// arguments of injected syscalls (paths, structs); a bump allocator reset between uses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inject/RemoteMemory.h"
#include "inject/RemoteSyscalls.h"

namespace cryo {

class RemoteScratch {
 public:
  // Maps `size` bytes read-write in the process of `rs` (at `fixedAddr` if non-zero).
  RemoteScratch(RemoteSyscalls& rs, RemoteMemory& mem, uint64_t size, uint64_t fixedAddr = 0);
  // Uses [addr, addr + size), mapped and unmapped by someone else.
  RemoteScratch(RemoteMemory& mem, uint64_t addr, uint64_t size);
  RemoteScratch(const RemoteScratch&) = delete;
  RemoteScratch& operator=(const RemoteScratch&) = delete;
  // Unmaps the area unless keep() was called.
  ~RemoteScratch();

  uint64_t addr() const { return addr_; }
  uint64_t size() const { return size_; }
  uint64_t end() const { return addr_ + size_; }
  bool contains(uint64_t a) const { return a >= addr_ && a < addr_ + size_; }

  void reset() { used_ = 0; }
  // Reserves len bytes (16-byte aligned); returns their remote address.
  uint64_t alloc(size_t len);
  uint64_t put(const void* data, size_t len);
  uint64_t putString(const std::string& s);
  template <typename T>
  uint64_t putValue(const T& v) {
    return put(&v, sizeof v);
  }
  template <typename T>
  T get(uint64_t remoteAddr) {
    return mem_.readValue<T>(remoteAddr);
  }
  void read(uint64_t remoteAddr, void* buf, size_t len) { mem_.read(remoteAddr, buf, len); }

  // Forget the mapping (the caller unmaps it, or it is gone with the process).
  void keep() { kept_ = true; }
  // Which RemoteSyscalls unmaps the area on destruction.
  void setUnmapper(RemoteSyscalls* rs) { rs_ = rs; }

 private:
  RemoteSyscalls* rs_;
  RemoteMemory& mem_;
  uint64_t addr_ = 0;
  uint64_t size_ = 0;
  uint64_t used_ = 0;
  bool kept_ = false;
};

}  // namespace cryo
