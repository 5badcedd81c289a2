// DirtyRate: the pre-copy rounds' measure of how fast the task writes, and its forecast.
#include "store/DirtyRate.h"

#include <algorithm>

namespace cryo {

void DirtyRate::restart(Clock::time_point at) {
  started_ = true;
  last_ = at;
}

void DirtyRate::collected(Clock::time_point at, uint64_t pages) {
  if (started_ && at > last_) {
    // An interval under 100 us says little about a rate (the collect's own time dominates).
    double us = std::max(100.0, std::chrono::duration<double, std::micro>(at - last_).count());
    rates_[count_ % kWindow] = static_cast<double>(pages) / us;
    ++count_;
  }
  restart(at);
}

double DirtyRate::pagesPerUs() const {
  size_t kept = std::min(count_, kWindow);
  return kept == 0 ? 0.0 : *std::max_element(rates_.begin(), rates_.begin() + kept);
}

uint64_t DirtyRate::forecast(Clock::time_point at) const {
  if (!started_ || at <= last_) return 0;
  double us = std::chrono::duration<double, std::micro>(at - last_).count();
  return static_cast<uint64_t>(pagesPerUs() * us + 0.5);
}

}  // namespace cryo
