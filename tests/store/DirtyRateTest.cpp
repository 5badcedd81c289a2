// Tests of DirtyRate: the write rate the pre-copy rounds measure and the freeze's forecast.
#include "store/DirtyRate.h"

#include <gtest/gtest.h>

namespace cryo {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(DirtyRateTest, forecast_is_the_measured_rate_times_the_time_since_the_last_collect) {
  DirtyRate r;
  auto t0 = DirtyRate::Clock::time_point{} + milliseconds(5);
  r.restart(t0);
  r.collected(t0 + milliseconds(10), 5000);  // 0.5 pages a microsecond
  EXPECT_DOUBLE_EQ(r.pagesPerUs(), 0.5);
  EXPECT_EQ(r.forecast(t0 + milliseconds(10)), 0u);
  EXPECT_EQ(r.forecast(t0 + milliseconds(14)), 2000u);
}

TEST(DirtyRateTest, one_calm_round_does_not_end_a_burst_but_a_window_of_them_does) {
  DirtyRate r;
  auto t = DirtyRate::Clock::time_point{} + milliseconds(1);
  r.restart(t);
  t += milliseconds(20);
  r.collected(t, 16000);  // a burst: 0.8 pages a microsecond
  t += milliseconds(2);
  r.collected(t, 10);  // a short round while the task was off its CPU
  EXPECT_DOUBLE_EQ(r.pagesPerUs(), 0.8);
  EXPECT_EQ(r.forecast(t + milliseconds(10)), 8000u);
  for (size_t i = 1; i < DirtyRate::kWindow; ++i) {
    t += milliseconds(2);
    r.collected(t, 10);
  }
  EXPECT_DOUBLE_EQ(r.pagesPerUs(), 10.0 / 2000.0);
  EXPECT_EQ(r.forecast(t + milliseconds(10)), 50u);
}

TEST(DirtyRateTest, a_restart_begins_the_next_interval_without_forgetting_the_rates) {
  DirtyRate r;
  auto t = DirtyRate::Clock::time_point{} + milliseconds(1);
  r.restart(t);
  r.collected(t + milliseconds(1), 100);  // 0.1 pages a microsecond
  // A freeze re-protected everything at t + 50 ms: the next interval starts there.
  r.restart(t + milliseconds(50));
  EXPECT_EQ(r.forecast(t + milliseconds(50)), 0u);
  EXPECT_EQ(r.forecast(t + milliseconds(51)), 100u);
  r.collected(t + milliseconds(60), 1000);  // 1000 pages over the 10 ms since the restart
  EXPECT_DOUBLE_EQ(r.pagesPerUs(), 0.1);
}

TEST(DirtyRateTest, nothing_is_forecast_before_tracking_starts_or_any_collect) {
  DirtyRate r;
  auto t = DirtyRate::Clock::time_point{} + milliseconds(1);
  EXPECT_EQ(r.forecast(t), 0u);
  r.collected(t, 500);  // no interval yet: only starts one
  EXPECT_DOUBLE_EQ(r.pagesPerUs(), 0.0);
  EXPECT_EQ(r.forecast(t + milliseconds(5)), 0u);
}

TEST(DirtyRateTest, an_interval_too_short_to_measure_counts_as_100_us) {
  DirtyRate r;
  auto t = DirtyRate::Clock::time_point{} + milliseconds(1);
  r.restart(t);
  r.collected(t + microseconds(10), 50);
  EXPECT_DOUBLE_EQ(r.pagesPerUs(), 0.5);
}

}  // namespace
}  // namespace cryo
