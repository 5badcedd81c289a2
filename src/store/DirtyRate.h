// DirtyRate: how fast a running task writes pages, as the pre-copy rounds' collects find them,
// and how many it will have written by a given instant (what a freeze then would copy).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace cryo {

class DirtyRate {
 public:
  using Clock = std::chrono::steady_clock;

  // Tracking (re)starts at `at`: the next collect finds what was written since (an arming
  // stop, or a freeze whose collect re-protected every page). The rates seen stay.
  void restart(Clock::time_point at);
  // A collect at `at` found `pages` written since the previous collect (or the restart).
  void collected(Clock::time_point at, uint64_t pages);
  // Pages a microsecond: the highest of the last few intervals between collects. A round
  // that finds few pages (the task was off its CPU, or the round was short) does not end a
  // burst on its own: only a few calm intervals in a row do.
  double pagesPerUs() const;
  // Pages the task will have written between the last collect and `at` (0 before any).
  uint64_t forecast(Clock::time_point at) const;

  static constexpr size_t kWindow = 3;

 private:
  bool started_ = false;
  Clock::time_point last_{};
  std::array<double, kWindow> rates_{};  // the last intervals' rates, ring
  size_t count_ = 0;                     // intervals seen (all, not only those kept)
};

}  // namespace cryo
