// Checksum: the one hash cryo uses for image integrity (XXH3-64 from libxxhash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace cryo {

class Checksum {
 public:
  Checksum();
  ~Checksum();
  Checksum(const Checksum&) = delete;
  Checksum& operator=(const Checksum&) = delete;
  void update(const void* data, size_t len);
  uint64_t digest() const;

  static uint64_t of(const void* data, size_t len);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace cryo
