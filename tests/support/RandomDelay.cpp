// RandomDelay: picks random pauses, and random points of a run to wait for, from a logged seed (std::random_device, or CRYO_TEST_SEED to replay a failure).
#include "RandomDelay.h"

#include <cstdlib>
#include <iostream>
#include <thread>

namespace cryo::test {

namespace {

uint64_t chooseSeed() {
  if (const char* s = std::getenv("CRYO_TEST_SEED"); s && *s)
    return std::strtoull(s, nullptr, 0);
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

RandomDelay::RandomDelay() : seed_(chooseSeed()), gen_(seed_) {
  std::cout << "[delay] seed " << seed_ << " (replay with CRYO_TEST_SEED=" << seed_ << ")\n";
}

std::chrono::milliseconds RandomDelay::fractionOf(std::chrono::milliseconds whole, double lo,
                                                  double hi, const std::string& what) {
  std::uniform_real_distribution<double> dist(lo, hi);
  double f = dist(gen_);
  auto ms = std::chrono::milliseconds(static_cast<long>(static_cast<double>(whole.count()) * f));
  std::cout << "[delay] " << what << ": " << ms.count() << " ms (" << static_cast<int>(f * 100)
            << "% of " << whole.count() << " ms)\n";
  std::cout.flush();
  return ms;
}

std::chrono::milliseconds RandomDelay::sleepFractionOf(std::chrono::milliseconds whole, double lo,
                                                       double hi, const std::string& what) {
  auto ms = fractionOf(whole, lo, hi, what);
  std::this_thread::sleep_for(ms);
  return ms;
}

int RandomDelay::between(int lo, int hi, const std::string& what) {
  std::uniform_int_distribution<int> dist(lo, hi);
  int n = dist(gen_);
  std::cout << "[delay] " << what << ": " << n << " (of " << lo << "-" << hi << ")\n";
  std::cout.flush();
  return n;
}

}  // namespace cryo::test
