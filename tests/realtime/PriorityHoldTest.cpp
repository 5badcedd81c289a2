// PriorityHoldTest: a held thread runs at SCHED_FIFO at the hold's priority and gets its own
// policy (and nice value) back at release; a thread already at a higher real-time priority is
// left alone; a thread gone before the release is skipped.
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "PausedChild.h"
#include "realtime/PriorityHold.h"

namespace cryo {
namespace {

cryo_sched_attr attrOf(pid_t tid) {
  cryo_sched_attr a{};
  EXPECT_EQ(::syscall(SYS_sched_getattr, tid, &a, sizeof a, 0), 0);
  return a;
}

class PriorityHoldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    child_ = paused_.pid();
    sched_param none{};
    ASSERT_EQ(::sched_setscheduler(child_, SCHED_BATCH, &none), 0);
    ASSERT_EQ(::setpriority(PRIO_PROCESS, static_cast<id_t>(child_), 7), 0);
  }
  void stopChild() { paused_.stop(); }
  PausedChild paused_;
  pid_t child_ = -1;
};

TEST_F(PriorityHoldTest, held_thread_runs_at_fifo_and_gets_its_own_policy_back) {
  PriorityHold hold(5);
  hold.hold(child_);
  ASSERT_EQ(hold.raised(), 1u);
  cryo_sched_attr now = attrOf(child_);
  EXPECT_EQ(now.sched_policy, static_cast<__u32>(SCHED_FIFO));
  EXPECT_EQ(now.sched_priority, 5u);
  auto own = hold.original(child_);
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->sched_policy, static_cast<__u32>(SCHED_BATCH));
  EXPECT_EQ(own->sched_nice, 7);
  hold.release();
  cryo_sched_attr back = attrOf(child_);
  EXPECT_EQ(back.sched_policy, static_cast<__u32>(SCHED_BATCH));
  EXPECT_EQ(back.sched_nice, 7);
  EXPECT_EQ(back.sched_priority, 0u);
  EXPECT_FALSE(hold.original(child_).has_value()) << "a released hold still remembers the thread";
}

TEST_F(PriorityHoldTest, thread_at_a_higher_realtime_priority_is_left_alone) {
  sched_param high{};
  high.sched_priority = 20;
  ASSERT_EQ(::sched_setscheduler(child_, SCHED_RR, &high), 0);
  {
    PriorityHold hold(5);
    hold.hold(child_);
    EXPECT_EQ(hold.raised(), 0u);
    EXPECT_FALSE(hold.original(child_).has_value());
  }
  cryo_sched_attr now = attrOf(child_);
  EXPECT_EQ(now.sched_policy, static_cast<__u32>(SCHED_RR));
  EXPECT_EQ(now.sched_priority, 20u);
}

TEST_F(PriorityHoldTest, thread_gone_before_the_release_is_skipped) {
  PriorityHold hold(5);
  hold.hold(child_);
  ASSERT_EQ(hold.raised(), 1u);
  stopChild();
  EXPECT_NO_THROW(hold.release());
}

}  // namespace
}  // namespace cryo
