// TaskRunner: `cryo run`: starts a command (or adopts a restored child), checkpoints it into a
// store periodically for as long as it lives, and exits with its status.
#include "node/TaskRunner.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <pthread.h>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/KernelCompat.h"
#include "common/UniqueFd.h"
#include "inject/Tracee.h"
#include "store/Checkpointer.h"
#include "store/RunStatus.h"
#include "track/DirtyTracker.h"
#include "track/TrackerFactory.h"

namespace cryo {

namespace {

using Clock = std::chrono::steady_clock;

// What the child needs, built before the fork: a process with other threads may hold the
// allocator's lock at the fork, so the child only makes system calls.
struct SpawnPlan {
  std::vector<std::string> envStore;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

SpawnPlan planSpawn(const RunOptions& opts) {
  SpawnPlan plan;
  for (const auto& a : opts.command) plan.argv.push_back(const_cast<char*>(a.c_str()));
  plan.argv.push_back(nullptr);
  if (opts.env.empty()) return plan;
  for (char** e = environ; *e; ++e) {
    std::string var(*e);
    std::string name = var.substr(0, var.find('='));
    bool replaced = false;
    for (const auto& add : opts.env) replaced |= add.substr(0, add.find('=')) == name;
    if (!replaced) plan.envStore.push_back(var);
  }
  for (const auto& add : opts.env) plan.envStore.push_back(add);
  for (auto& v : plan.envStore) plan.envp.push_back(v.data());
  plan.envp.push_back(nullptr);
  return plan;
}

pid_t spawn(const RunOptions& opts, const sigset_t& oldMask) {
  SpawnPlan plan = planSpawn(opts);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) failErrno("pipe2");
  pid_t pid = ::fork();
  if (pid < 0) failErrno("fork");
  if (pid == 0) {
    ::close(p[0]);
    // A daemon's threads block the signals it handles itself; its tasks start with none blocked.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, opts.forwardSignals ? &oldMask : &none, nullptr);
    if (opts.cpu) opts.cpu->undoInChild();
    if (opts.stdoutFd >= 0) ::dup2(opts.stdoutFd, 1);
    if (opts.stderrFd >= 0) ::dup2(opts.stderrFd, 2);
    // Closed by the exec (the exec-failure pipe must stay open until then).
    if (opts.closeOtherFds) ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (!plan.envp.empty()) environ = plan.envp.data();
    ::execvp(plan.argv[0], plan.argv.data());
    int e = errno;
    (void)!::write(p[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(p[1]);
  int e = 0;
  ssize_t n = ::read(p[0], &e, sizeof e);  // EOF: exec succeeded (the pipe closed on exec)
  ::close(p[0]);
  if (n == sizeof e) {
    ::waitpid(pid, nullptr, 0);
    throw SysError(fmt::format("cannot run {}", opts.command[0]), e);
  }
  return pid;
}

int exitCodeOf(int status, pid_t pid) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    spdlog::error("task {} was killed by signal {} ({})", pid, WTERMSIG(status),
                  strsignal(WTERMSIG(status)));
    return 128 + WTERMSIG(status);
  }
  return 1;
}

// Non-blocking check whether the task has exited; fills `code`. Threads of the task that died
// while cryo traced them (a task killed during a checkpoint) can only be reaped by cryo, and
// until they are, the task's main thread stays a zombie that waitpid does not report: every
// waitable child or tracee of this thread is reaped here (__WNOTHREAD: a process that runs
// several tasks, one thread each, never takes another task's children or tracees).
bool reaped(pid_t pid, int& code) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(-1, &status, WNOHANG | __WALL | __WNOTHREAD);
    if (r == pid) {
      code = exitCodeOf(status, pid);
      return true;
    }
    if (r > 0) continue;  // a traced thread of the task, or a stray child
    if (r < 0 && errno == EINTR) continue;
    break;
  }
  if (Tracee::takeReapedStatus(pid, status)) {
    code = exitCodeOf(status, pid);
    return true;
  }
  return false;
}

// A failed checkpoint: recorded in the store, said on stderr every time, and once
// --max-failures have failed in a row, acted on. Returns cryo's exit code when it must end.
std::optional<int> checkpointFailed(const RunOptions& opts, RunStatus& status, pid_t pid,
                                    const std::string& error) {
  const RunFailures& f = status.failed(error);
  std::string newest = f.lastGoodId.empty() ? std::string("none yet")
                                            : fmt::format("{}, {:.1f} s old", f.lastGoodId,
                                                          f.lastFailureTime - f.lastGoodTime);
  spdlog::warn("checkpoint failed ({} in a row; newest checkpoint: {}): {}", f.sinceGood, newest,
               error);
  if (opts.onFailure == OnFailure::kWarn || f.sinceGood < opts.maxFailures) return std::nullopt;
  if (opts.onFailure == OnFailure::kStopTask) {
    spdlog::error("{} checkpoints in a row failed: killing the task (pid {}) "
                  "(--on-failure stop-task)", f.sinceGood, pid);
    ::kill(pid, SIGKILL);
    int st = 0;
    while (::waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
    }
    return 1;
  }
  spdlog::error("{} checkpoints in a row failed: cryo exits and the task (pid {}) runs on "
                "without checkpoints (--on-failure exit; --on-failure warn goes on trying)",
                f.sinceGood, pid);
  return 1;
}

}  // namespace

OnFailure TaskRunner::parseOnFailure(const std::string& text) {
  if (text == "warn") return OnFailure::kWarn;
  if (text == "stop-task") return OnFailure::kStopTask;
  if (text == "exit") return OnFailure::kExit;
  fail("unknown --on-failure policy '{}' (warn, stop-task or exit)", text);
}

std::chrono::microseconds TaskRunner::parseDuration(const std::string& text, double minUs) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) fail("invalid duration '{}' (examples: 100ms, 2s, 1m)", text);
  double v = std::stod(text.substr(0, i));
  std::string unit = text.substr(i);
  double us;
  if (unit == "us") us = v;
  else if (unit == "ms") us = v * 1e3;
  else if (unit == "s" || unit.empty()) us = v * 1e6;
  else if (unit == "m") us = v * 60e6;
  else fail("invalid duration '{}': unit must be us, ms, s or m", text);
  if (us < minUs) fail("duration {} is too short (at least {} us)", text, minUs);
  return std::chrono::microseconds(static_cast<int64_t>(std::llround(us)));
}

int TaskRunner::run(const RunOptions& opts) {
  if (opts.command.empty() && !opts.adopt) fail("cryo run needs a command after --");
  CheckpointStore store(opts.store, true);
  store.removeIncomplete();

  // Signals for cryo arrive through a signalfd; the ones a user sends to stop the job are
  // passed on to the task.
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  if (opts.forwardSignals)
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&mask, s);
  ::pthread_sigmask(SIG_BLOCK, &mask, &old);
  UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) failErrno("signalfd");

  CheckpointPolicy policy;
  policy.maxFreeze = opts.maxFreeze;
  policy.freezePriority = opts.freezePriority;
  policy.tcpClose = opts.tcpClose;
  policy.recordView = opts.recordView;
  bool automatic = opts.freezeMode.empty();
  if (automatic) {
    // Bounded freeze wherever the tracker allows it.
    auto t = TrackerFactory::create(opts.tracker);
    policy.mode = t && t->collectsWhileRunning() ? FreezeMode::kPrecopy : FreezeMode::kStop;
  } else {
    policy.mode = CheckpointPolicy::parseMode(opts.freezeMode);
  }
  Checkpointer::validate(opts.tracker, policy);  // before the task starts

  pid_t pid = opts.adopt ? opts.adopt() : spawn(opts, old);
  spdlog::info("{} {} as pid {}", opts.adopt ? "adopted" : "started",
               opts.command.empty() ? std::string("the task") : opts.command[0], pid);
  if (opts.onStarted) opts.onStarted(pid);
  Checkpointer cp(store, pid, opts.tracker, policy);
  RunStatus status(store.dir());
  auto next = Clock::now();
  int code = 0;
  for (;;) {
    if (reaped(pid, code)) return code;
    auto now = Clock::now();
    if (now >= next) {
      try {
        CheckpointInfo info = cp.checkpoint();
        spdlog::info("checkpoint {} ({}, {}): {} pages, frozen {} us, {} precopy rounds",
                     info.id, info.incremental ? "incremental" : "full",
                     CheckpointPolicy::modeName(policy.mode), info.dump.pages,
                     info.dump.freezeUs, info.rounds);
        status.succeeded(info.id);
        if (opts.onCheckpoint) opts.onCheckpoint(info);
        if (opts.keep) store.compact(opts.keep);
      } catch (const std::exception& e) {
        if (reaped(pid, code)) return code;
        if (opts.onCheckpointFailed) opts.onCheckpointFailed(e.what());
        if (std::optional<int> exitCode = checkpointFailed(opts, status, pid, e.what()))
          return *exitCode;
      }
      // A checkpoint longer than the period delays the next one; they never overlap.
      next = std::max(next + opts.every, Clock::now());
      continue;
    }
    int timeoutMs = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count()) + 1;
    pollfd pfd{sfd.get(), POLLIN, 0};
    int r = ::poll(&pfd, 1, timeoutMs);
    if (r > 0) {
      signalfd_siginfo si{};
      while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig != SIGCHLD) ::kill(pid, sig);
      }
    }
  }
}

}  // namespace cryo
