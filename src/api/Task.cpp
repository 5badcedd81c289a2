// Task: the library API's task (include/cryo/task.h): TaskRunner's loop run in a thread of its
// own (over a started command or a restored checkpoint), its progress recorded for status(),
// and the task signalled through a pidfd (never a recycled pid).
#include "cryo/task.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/UniqueFd.h"
#include "node/TaskRunner.h"

namespace cryo::api {

namespace {

UniqueFd openOutput(const std::filesystem::path& p) {
  if (p.empty()) return UniqueFd();
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) failErrno("cannot open the task's output file {}", p.string());
  return fd;
}

}  // namespace

const char* taskStateName(TaskState s) {
  switch (s) {
    case TaskState::kStarting: return "starting";
    case TaskState::kRunning: return "running";
    case TaskState::kExited: return "exited";
    case TaskState::kFailed: return "failed";
    case TaskState::kStopped: return "stopped";
  }
  return "unknown";
}

std::chrono::microseconds parseDuration(const std::string& text, double minUs) {
  return TaskRunner::parseDuration(text, minUs);
}

struct Task::Impl {
  TaskSpec spec;
  std::optional<RestoreRequest> from;  // adopt a restored checkpoint instead of a command
  mutable std::mutex mu;
  std::condition_variable ended;
  TaskStatus st;
  bool done = false;
  bool stopRequested = false;
  UniqueFd pidfd;
  std::thread thread;

  void run();
  RunOptions options(int out, int err);
  void finish(TaskState state, int code, const std::string& error);
};

RunOptions Task::Impl::options(int out, int err) {
  RunOptions o;
  o.store = spec.store;
  o.every = spec.every;
  o.keep = spec.keep;
  o.tracker = spec.tracker;
  o.maxFreeze = spec.maxFreeze;
  o.onFailure = OnFailure::kWarn;  // a daemon never leaves a task without checkpoints
  o.forwardSignals = false;
  o.stdoutFd = out;
  o.closeOtherFds = true;
  o.stderrFd = err;
  o.env = spec.env;
  o.command = spec.command;
  if (from) o.adopt = [this] { return api::restore(*from); };
  o.onStarted = [this](pid_t pid) {
    std::lock_guard lk(mu);
    pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    st.pid = pid;
    st.state = TaskState::kRunning;
    if (stopRequested) ::kill(pid, SIGTERM);  // stop() came before the pid was known
    ended.notify_all();
  };
  o.onCheckpoint = [this](const CheckpointInfo& info) {
    std::lock_guard lk(mu);
    ++st.checkpoints;
    st.lastCheckpointId = info.id;
    st.lastCheckpointTime = std::chrono::system_clock::now();
    if (spec.onCheckpoint) spec.onCheckpoint(info.id);
  };
  o.onCheckpointFailed = [this](const std::string& error) {
    std::lock_guard lk(mu);
    ++st.failures;
    st.lastError = error;
  };
  return o;
}

void Task::Impl::finish(TaskState state, int code, const std::string& error) {
  std::lock_guard lk(mu);
  if (stopRequested && state != TaskState::kFailed) state = TaskState::kStopped;
  if (stopRequested && code == 128 + SIGTERM) state = TaskState::kStopped;
  st.state = state;
  st.exitCode = code;
  if (!error.empty()) st.lastError = error;
  pidfd.reset();
  done = true;
  ended.notify_all();
}

void Task::Impl::run() {
  try {
    UniqueFd out = from ? UniqueFd() : openOutput(spec.stdoutPath);
    UniqueFd err = from ? UniqueFd() : openOutput(spec.stderrPath);
    int code = TaskRunner::run(options(out.get(), err.get()));
    finish(code > 128 ? TaskState::kFailed : TaskState::kExited, code, "");
  } catch (const std::exception& e) {
    spdlog::error("task {}: {}", spec.command.empty() ? "" : spec.command[0], e.what());
    finish(TaskState::kFailed, 1, e.what());
  }
}

Task::Task(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<Task> Task::start(const TaskSpec& spec) {
  if (spec.command.empty()) fail("a task needs a command");
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  return launch(std::move(impl));
}

std::unique_ptr<Task> Task::restore(const TaskSpec& spec, const RestoreRequest& from) {
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  impl->from = from;
  return launch(std::move(impl));
}

std::unique_ptr<Task> Task::launch(std::unique_ptr<Impl> impl) {
  std::unique_ptr<Task> task(new Task(std::move(impl)));
  Impl* p = task->impl_.get();
  p->thread = std::thread([p] { p->run(); });
  return task;
}

Task::~Task() {
  stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

TaskStatus Task::status() const {
  std::lock_guard lk(impl_->mu);
  return impl_->st;
}

void Task::signal(int sig) {
  std::lock_guard lk(impl_->mu);
  if (impl_->done || !impl_->pidfd) return;
  if (::syscall(SYS_pidfd_send_signal, impl_->pidfd.get(), sig, nullptr, 0) != 0 &&
      errno != ESRCH)
    failErrno("cannot signal task pid {}", impl_->st.pid);
}

void Task::stop() {
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->done) return;
    impl_->stopRequested = true;
  }
  signal(SIGTERM);
  wait();
}

void Task::wait() {
  std::unique_lock lk(impl_->mu);
  impl_->ended.wait(lk, [this] { return impl_->done; });
}

TaskStatus Task::waitStarted() {
  std::unique_lock lk(impl_->mu);
  impl_->ended.wait(lk, [this] { return impl_->done || impl_->st.state != TaskState::kStarting; });
  return impl_->st;
}

}  // namespace cryo::api
