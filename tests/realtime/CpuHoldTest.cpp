// CpuHoldTest: a held thread runs on the CPUs given and gets its own CPU list back at release;
// a thread gone before the release is skipped; the hold remembers each thread's own list.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "PausedChild.h"
#include "realtime/CpuHold.h"

namespace cryo {
namespace {

cpu_set_t only(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  return s;
}

cpu_set_t cpusOf(pid_t tid) {
  cpu_set_t s;
  CPU_ZERO(&s);
  EXPECT_EQ(::sched_getaffinity(tid, sizeof s, &s), 0);
  return s;
}

class CpuHoldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs 2 CPUs";
    child_ = paused_.pid();
    cpu_set_t zero = only(0);
    ASSERT_EQ(::sched_setaffinity(child_, sizeof zero, &zero), 0);
  }
  void stopChild() { paused_.stop(); }
  PausedChild paused_;
  pid_t child_ = -1;
};

TEST_F(CpuHoldTest, held_thread_runs_on_the_given_cpus_and_gets_its_own_back) {
  cpu_set_t one = only(1), zero = only(0);
  pid_t tid = child_;
  CpuHold hold({tid}, one);
  EXPECT_EQ(hold.moved(), 1u);
  cpu_set_t now = cpusOf(tid);
  EXPECT_TRUE(CPU_EQUAL(&now, &one)) << "the thread was not moved";
  auto own = hold.original(tid);
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(CPU_EQUAL(&*own, &zero)) << "the hold did not record the thread's own CPUs";
  hold.release();
  now = cpusOf(tid);
  EXPECT_TRUE(CPU_EQUAL(&now, &zero)) << "the thread did not get its own CPUs back";
  EXPECT_FALSE(hold.original(tid).has_value());
}

TEST_F(CpuHoldTest, hold_ending_puts_the_cpus_back_too) {
  cpu_set_t zero = only(0);
  { CpuHold hold({child_}, only(1)); }
  cpu_set_t now = cpusOf(child_);
  EXPECT_TRUE(CPU_EQUAL(&now, &zero));
}

TEST_F(CpuHoldTest, thread_gone_before_the_release_is_skipped) {
  CpuHold hold({child_}, only(1));
  stopChild();
  EXPECT_NO_THROW(hold.release());
}

}  // namespace
}  // namespace cryo
