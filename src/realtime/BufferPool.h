// BufferPool: a few large, already-faulted-in buffers, allocated before a task is frozen so
// that copying its pages never waits for page faults in cryo's own memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cryo {

class BufferPool {
 public:
  BufferPool(size_t count, size_t size);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  ~BufferPool();
  size_t count() const { return bufs_.size(); }
  size_t bufferSize() const { return size_; }
  uint8_t* buffer(size_t i) const { return bufs_[i]; }

 private:
  size_t size_;
  std::vector<uint8_t*> bufs_;
};

}  // namespace cryo
