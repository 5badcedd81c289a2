// Bandwidth: this machine's physical references for moving memory, measured the way cryo moves
// it: memcpy into memory already touched, memcpy into fresh memory (page faults included), and
// process_vm_readv from another process with large iovecs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace cryo::bench {

class Bandwidth {
 public:
  // Sets up buffers of `bytes` (touched) and a helper process holding `bytes` of touched memory.
  explicit Bandwidth(size_t bytes);
  ~Bandwidth();
  Bandwidth(const Bandwidth&) = delete;
  Bandwidth& operator=(const Bandwidth&) = delete;

  // Each call measures once and returns bytes per second.
  double memcpyTouched();
  double memcpyFresh();
  double processVmReadv();

 private:
  size_t bytes_;
  uint8_t* src_ = nullptr;
  uint8_t* dst_ = nullptr;
  int helper_ = -1;         // pid of the process read with process_vm_readv
  uint64_t helperAddr_ = 0;  // its buffer
};

}  // namespace cryo::bench
