// RandomDelay: picks random pauses, and random points of a run to wait for, from a logged seed (std::random_device, or CRYO_TEST_SEED to replay a failure).
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace cryo::test {

class RandomDelay {
 public:
  RandomDelay();

  uint64_t seed() const { return seed_; }

  // A delay between lo and hi (inclusive) fractions of `whole`; logged with `what`.
  std::chrono::milliseconds fractionOf(std::chrono::milliseconds whole, double lo, double hi,
                                       const std::string& what);

  // Picks a delay as fractionOf() does and sleeps for it.
  std::chrono::milliseconds sleepFractionOf(std::chrono::milliseconds whole, double lo, double hi,
                                            const std::string& what);

  // A whole number between lo and hi (inclusive), e.g. how many steps of its run a program
  // is to make before a checkpoint; logged with `what`.
  int between(int lo, int hi, const std::string& what);

 private:
  uint64_t seed_;
  std::mt19937_64 gen_;
};

}  // namespace cryo::test
