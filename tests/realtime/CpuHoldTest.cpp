// CpuHoldTest: a held thread runs on the CPUs given and gets its own CPU list back at release;
// a thread gone before the release is skipped; the hold remembers each thread's own list; a
// thread born during the hold with the hold's CPUs (inherited from a held creator) gets its
// creator's own list at the release, one older than the hold keeps its own.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "PausedChild.h"
#include "common/ProcFs.h"
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

TEST_F(CpuHoldTest, thread_born_with_the_hold_s_cpus_gets_its_creator_s_own_list) {
  cpu_set_t one = only(1), zero = only(0);
  uint64_t since = CpuHold::ticksNow();
  CpuHold hold({child_}, one);  // the creator, moved on its way to stop
  PausedChild born;             // made since, with the CPUs its creator had meanwhile
  ASSERT_EQ(::sched_setaffinity(born.pid(), sizeof one, &one), 0);
  hold.holdBorn(born.pid(), {child_}, since);
  auto own = hold.original(born.pid());
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(CPU_EQUAL(&*own, &zero)) << "recorded with the hold's CPUs, not its creator's";
  hold.release();
  cpu_set_t now = cpusOf(born.pid());
  EXPECT_TRUE(CPU_EQUAL(&now, &zero)) << "the born thread kept cryo's CPUs after the release";
}

TEST_F(CpuHoldTest, thread_older_than_the_hold_keeps_its_own_list_even_if_it_is_the_hold_s) {
  cpu_set_t one = only(1);
  PausedChild older;  // pinned to the hold's CPUs by itself, before the hold
  ASSERT_EQ(::sched_setaffinity(older.pid(), sizeof one, &one), 0);
  uint64_t since = ProcFs::stat(older.pid()).startTime + 1;
  CpuHold hold({child_}, one);
  hold.holdBorn(older.pid(), {child_}, since);
  auto own = hold.original(older.pid());
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(CPU_EQUAL(&*own, &one)) << "an older thread's own list was replaced";
  hold.release();
  cpu_set_t now = cpusOf(older.pid());
  EXPECT_TRUE(CPU_EQUAL(&now, &one));
}

}  // namespace
}  // namespace cryo
