// BufferPool: a few large, already-faulted-in buffers, allocated before a task is frozen so
// that copying its pages never waits for page faults in cryo's own memory.
#include "realtime/BufferPool.h"

#include <sys/mman.h>

#include "common/Error.h"

namespace cryo {

BufferPool::BufferPool(size_t count, size_t size) : size_(size) {
  for (size_t i = 0; i < count; ++i) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) failErrno("cannot allocate a {}-byte copy buffer", size);
    bufs_.push_back(static_cast<uint8_t*>(p));
  }
}

BufferPool::~BufferPool() {
  for (uint8_t* b : bufs_) ::munmap(b, size_);
}

}  // namespace cryo
