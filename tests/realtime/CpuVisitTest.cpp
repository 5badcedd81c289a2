// CpuVisitTest: the visiting thread runs on the task's CPUs (at SCHED_FIFO, to preempt the task
// at once) and comes back to its own CPUs and policy; it stays home when it shares a CPU with
// the task, when the task runs at a real-time policy, and when switched off.
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "realtime/CpuVisit.h"

namespace cryo {
namespace {

cpu_set_t only(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  return s;
}

cpu_set_t ownCpus() {
  cpu_set_t s;
  CPU_ZERO(&s);
  EXPECT_EQ(::sched_getaffinity(0, sizeof s, &s), 0);
  return s;
}

class CpuVisitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs 2 CPUs";
    saved_ = ownCpus();
    cpu_set_t one = only(1);
    ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
  }
  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    ::sched_setaffinity(0, sizeof saved_, &saved_);
    sched_param ordinary{};
    ::sched_setscheduler(0, SCHED_OTHER, &ordinary);
    ::unsetenv("CRYO_SCAN_CPU");
  }
  // A child that sleeps on `cpus`, at `policy`.
  void startChild(const cpu_set_t& cpus, int policy = SCHED_OTHER) {
    child_ = ::fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      for (;;) ::pause();
    }
    ASSERT_EQ(::sched_setaffinity(child_, sizeof cpus, &cpus), 0);
    sched_param p{};
    p.sched_priority = policy == SCHED_OTHER ? 0 : 1;
    ASSERT_EQ(::sched_setscheduler(child_, policy, &p), 0);
  }
  pid_t child_ = -1;
  cpu_set_t saved_{};
};

TEST_F(CpuVisitTest, visit_runs_on_the_task_cpu_and_comes_back) {
  startChild(only(0));
  {
    CpuVisit visit(child_);
    EXPECT_TRUE(visit.moved());
    EXPECT_EQ(::sched_getcpu(), 0) << "the visiting thread is not on the task's CPU";
  }
  cpu_set_t now = ownCpus(), one = only(1);
  EXPECT_TRUE(CPU_EQUAL(&now, &one)) << "the thread did not get its own CPUs back";
  EXPECT_EQ(::sched_getcpu(), 1);
}

int policyOfThisThread(int* priority) {
  sched_param p{};
  EXPECT_EQ(::sched_getparam(0, &p), 0);
  *priority = p.sched_priority;
  return ::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
}

TEST_F(CpuVisitTest, visit_preempts_a_busy_task_at_fifo_and_gives_the_policy_back) {
  child_ = ::fork();
  ASSERT_GE(child_, 0);
  if (child_ == 0) {
    volatile unsigned long spins = 0;
    for (;;) spins = spins + 1;
  }
  cpu_set_t zero = only(0);
  ASSERT_EQ(::sched_setaffinity(child_, sizeof zero, &zero), 0);
  int prio = -1;
  ASSERT_EQ(policyOfThisThread(&prio), SCHED_OTHER);
  {
    CpuVisit visit(child_);
    EXPECT_TRUE(visit.moved());
    EXPECT_TRUE(visit.raised());
    EXPECT_EQ(::sched_getcpu(), 0);
    EXPECT_EQ(policyOfThisThread(&prio), SCHED_FIFO) << "the visit waits for the task's slice";
    EXPECT_EQ(prio, 1);
  }
  EXPECT_EQ(policyOfThisThread(&prio), SCHED_OTHER) << "the thread kept SCHED_FIFO";
  EXPECT_EQ(prio, 0);
  EXPECT_EQ(::sched_getcpu(), 1);
}

TEST_F(CpuVisitTest, visit_keeps_the_real_time_priority_the_thread_had) {
  startChild(only(0));
  sched_param p{};
  p.sched_priority = 7;
  ASSERT_EQ(::sched_setscheduler(0, SCHED_FIFO, &p), 0);
  int prio = -1;
  {
    CpuVisit visit(child_);
    EXPECT_TRUE(visit.moved());
    EXPECT_FALSE(visit.raised());
    EXPECT_EQ(policyOfThisThread(&prio), SCHED_FIFO);
    EXPECT_EQ(prio, 7);
  }
  EXPECT_EQ(policyOfThisThread(&prio), SCHED_FIFO);
  EXPECT_EQ(prio, 7) << "the visit changed a priority it did not raise";
}

TEST_F(CpuVisitTest, visit_stays_home_on_a_cpu_shared_with_the_task) {
  cpu_set_t both = only(0);
  CPU_SET(1, &both);
  startChild(both);
  CpuVisit visit(child_);
  EXPECT_FALSE(visit.moved());
  EXPECT_EQ(::sched_getcpu(), 1);
}

TEST_F(CpuVisitTest, visit_stays_home_when_the_task_runs_at_a_real_time_policy) {
  startChild(only(0), SCHED_FIFO);
  CpuVisit visit(child_);
  EXPECT_FALSE(visit.moved()) << "a real-time task would keep the visitor from running";
  EXPECT_EQ(::sched_getcpu(), 1);
}

TEST_F(CpuVisitTest, visit_stays_home_when_switched_off) {
  startChild(only(0));
  ::setenv("CRYO_SCAN_CPU", "own", 1);
  CpuVisit visit(child_);
  EXPECT_FALSE(visit.moved());
  EXPECT_EQ(::sched_getcpu(), 1);
}

}  // namespace
}  // namespace cryo
