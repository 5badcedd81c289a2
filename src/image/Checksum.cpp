// Checksum: the one hash cryo uses for image integrity (XXH3-64 from libxxhash).
#include "image/Checksum.h"

#include <xxhash.h>

#include <new>

namespace cryo {

struct Checksum::State {
  XXH3_state_t* st = nullptr;
};

Checksum::Checksum() : s_(std::make_unique<State>()) {
  s_->st = XXH3_createState();
  if (!s_->st) throw std::bad_alloc();
  XXH3_64bits_reset(s_->st);
}

Checksum::~Checksum() { XXH3_freeState(s_->st); }

void Checksum::update(const void* data, size_t len) { XXH3_64bits_update(s_->st, data, len); }

uint64_t Checksum::digest() const { return XXH3_64bits_digest(s_->st); }

uint64_t Checksum::of(const void* data, size_t len) { return XXH3_64bits(data, len); }

}  // namespace cryo
