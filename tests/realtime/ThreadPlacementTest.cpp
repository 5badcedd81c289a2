// Tests of ThreadPlacement: a thread's CPUs and policy, taken from one thread and given to
// another that was made elsewhere (at the idle policy, on other CPUs).
#include "realtime/ThreadPlacement.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "IdleThread.h"

namespace cryo {
namespace {

using test::onIdleThread;

TEST(ThreadPlacementTest, a_thread_made_at_the_idle_policy_takes_its_owners_cpus_and_policy) {
  cpu_set_t mine;
  ASSERT_EQ(::sched_getaffinity(0, sizeof mine, &mine), 0);
  if (CPU_COUNT(&mine) < 2) GTEST_SKIP() << "needs two CPUs to tell the sets apart";
  ThreadPlacement home = ThreadPlacement::ofCallingThread();
  EXPECT_EQ(home.policy(), ::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK);
  onIdleThread([&] {
    ASSERT_EQ(::sched_getscheduler(0), SCHED_IDLE);
    ASSERT_TRUE(home.applyToCallingThread()) << "errno " << errno;
    EXPECT_EQ(::sched_getscheduler(0), home.policy());
    cpu_set_t now;
    ASSERT_EQ(::sched_getaffinity(0, sizeof now, &now), 0);
    EXPECT_TRUE(CPU_EQUAL(&now, &mine)) << CPU_COUNT(&now) << " CPUs, want " << CPU_COUNT(&mine);
  });
}

TEST(ThreadPlacementTest, a_real_time_policy_is_taken_as_the_ordinary_one) {
  sched_param fifo{};
  fifo.sched_priority = 1;
  if (::sched_setscheduler(0, SCHED_FIFO, &fifo) != 0)
    GTEST_SKIP() << "cannot raise this thread to SCHED_FIFO: errno " << errno;
  ThreadPlacement p = ThreadPlacement::ofCallingThread();
  sched_param other{};
  ASSERT_EQ(::sched_setscheduler(0, SCHED_OTHER, &other), 0);
  EXPECT_EQ(p.policy(), SCHED_OTHER);
  onIdleThread([&] {
    ASSERT_TRUE(p.applyToCallingThread()) << "errno " << errno;
    EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
  });
}

TEST(ThreadPlacementTest, the_nice_value_goes_with_the_placement) {
  std::thread t([] {
    ASSERT_EQ(::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 7), 0);
    ThreadPlacement p = ThreadPlacement::ofCallingThread();
    EXPECT_EQ(p.nice(), 7);
    onIdleThread([&] {
      ASSERT_EQ(::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 0), 0);
      ASSERT_TRUE(p.applyToCallingThread()) << "errno " << errno;
      errno = 0;
      EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())), 7);
    });
  });
  t.join();
}

}  // namespace
}  // namespace cryo
