// TraceeTest: a thread let go while it runs (not in a ptrace stop) is no longer traced, and
// one that sits in a signal stop when frozen reaches the interrupt stop with its signal kept.
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "common/ProcFs.h"
#include "inject/Tracee.h"

namespace cryo {
namespace {

std::string tracerOf(pid_t pid) { return ProcFs::status(ProcFs::path(pid, "status"))["TracerPid"]; }

class TraceeTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (child_ <= 0) return;
    ::kill(child_, SIGKILL);
    ::waitpid(child_, nullptr, __WALL);
  }
  pid_t child_ = -1;
};

TEST_F(TraceeTest, tracee_let_go_while_it_runs_is_no_longer_traced) {
  child_ = ::fork();
  ASSERT_GE(child_, 0);
  if (child_ == 0) {
    for (;;) ::sched_yield();
  }
  {
    Tracee t(child_, 0);
    EXPECT_EQ(tracerOf(child_), std::to_string(::getpid()));
    // Never stopped: PTRACE_DETACH alone cannot let it go.
  }
  EXPECT_EQ(tracerOf(child_), "0") << "the thread stayed traced after its Tracee was gone";
  EXPECT_EQ(ProcFs::stat(child_).state, 'R') << "the thread was left stopped";
}

volatile sig_atomic_t g_got;
void onUsr1(int) { g_got = g_got + 1; }

TEST_F(TraceeTest, freeze_of_a_thread_in_a_signal_stop_delivers_the_signal_and_holds_it) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  child_ = ::fork();
  ASSERT_GE(child_, 0);
  if (child_ == 0) {
    ::close(fds[0]);
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = onUsr1;
    ::sigaction(SIGUSR1, &sa, nullptr);
    char c = 'r';
    if (::write(fds[1], &c, 1) != 1) ::_exit(2);
    while (!g_got) ::pause();
    c = 'g';  // the handler ran: the signal was delivered, not lost
    if (::write(fds[1], &c, 1) != 1) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  char c;
  ASSERT_EQ(::read(fds[0], &c, 1), 1);
  Tracee t(child_, 0);
  ASSERT_EQ(::kill(child_, SIGUSR1), 0);
  // Wait (without taking the report) until the thread sits in its signal stop.
  for (int i = 0; ProcFs::stat(child_).state != 't'; ++i) {
    ASSERT_LT(i, 10000) << "the signal stop did not come";
    ::usleep(100);
  }
  // Frozen from there, the signal stop is what freeze sees first: it must deliver the signal
  // and still end in the interrupt stop.
  t.freeze();
  EXPECT_EQ(ProcFs::stat(child_).state, 't');
  t.detach();
  ASSERT_EQ(::read(fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'g');
  ::close(fds[0]);
}

}  // namespace
}  // namespace cryo
