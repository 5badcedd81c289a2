// IdleThread: runs a piece of a test on a new thread at SCHED_IDLE, pinned to the first CPU of the caller's set.
#include "IdleThread.h"

#include <sched.h>

#include <thread>

#include <gtest/gtest.h>

namespace cryo::test {

void onIdleThread(const std::function<void()>& fn) {
  cpu_set_t all;
  CPU_ZERO(&all);
  ASSERT_EQ(::sched_getaffinity(0, sizeof all, &all), 0);
  std::thread t([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &all)) {
        CPU_SET(c, &one);
        break;
      }
    ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
    sched_param idle{};
    ASSERT_EQ(::sched_setscheduler(0, SCHED_IDLE, &idle), 0);
    fn();
  });
  t.join();
}

}  // namespace cryo::test
