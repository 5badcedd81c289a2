// Subprocess: fork/exec with explicit standard streams, and timed cryo commands.
#include "Subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

extern char** environ;

namespace cryo::bench {

int64_t nowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

pid_t spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) throw std::runtime_error("spawn: empty command");
  // Everything the child needs is prepared before fork.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> envStore;
  for (char** e = environ; *e; ++e) {
    std::string s(*e);
    std::string name = s.substr(0, s.find('='));
    bool overridden = std::any_of(spec.extraEnv.begin(), spec.extraEnv.end(),
                                  [&](const std::string& x) { return x.rfind(name + "=", 0) == 0; });
    if (!overridden) envStore.push_back(std::move(s));
  }
  for (const auto& x : spec.extraEnv) envStore.push_back(x);
  std::vector<char*> envp;
  for (auto& s : envStore) envp.push_back(s.data());
  envp.push_back(nullptr);
  // Where each child fd comes from: 0 = /dev/null, 1, 2, then the passed fds.
  std::vector<std::pair<int, int>> fds = spec.passFds;
  fds.emplace_back(1, spec.stdoutFd);
  fds.emplace_back(2, spec.stderrFd);
  int maxFd = 2;
  for (auto& [to, from] : fds) maxFd = std::max(maxFd, to);
  std::vector<int> moved(fds.size(), -1);

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid > 0) return pid;

  // Child: only async-signal-safe calls from here on.
  if (spec.dieWithParent) ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  int null = ::open("/dev/null", O_RDWR);
  if (null < 0) ::_exit(127);
  // First move every source above all destinations so that no dup2 overwrites a source.
  for (size_t i = 0; i < fds.size(); ++i) {
    int src = fds[i].second >= 0 ? fds[i].second : null;
    moved[i] = ::fcntl(src, F_DUPFD, maxFd + 1);
    if (moved[i] < 0) ::_exit(127);
  }
  if (::dup2(null, 0) < 0) ::_exit(127);
  for (size_t i = 0; i < fds.size(); ++i)
    if (::dup2(moved[i], fds[i].first) < 0) ::_exit(127);
  ::syscall(SYS_close_range, static_cast<unsigned>(maxFd + 1), ~0U, 0U);
  ::execve(argv[0], argv.data(), envp.data());
  ::_exit(127);
}

bool waitFor(pid_t pid, int timeoutMs, int& status) {
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pfd >= 0) {
    pollfd p{pfd, POLLIN, 0};
    int r;
    while ((r = ::poll(&p, 1, timeoutMs)) < 0 && errno == EINTR) {
    }
    ::close(pfd);
    if (r == 0) return false;
  }
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return fmt::format("exit {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  return fmt::format("wait status {:#x}", status);
}

bool CommandResult::ok() const {
  return !timedOut && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string CommandResult::describe() const {
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  std::string how = timedOut ? std::string("timed out (killed)") : describeStatus(status);
  std::string e = err;
  while (!e.empty() && e.back() == '\n') e.pop_back();
  return fmt::format("`{}` failed: {}\n--- its standard error ---\n{}\n---", cmd, how,
                     e.empty() ? "(empty)" : e);
}

CommandResult runCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extraEnv, bool firstLineOnly,
                         int timeoutSec) {
  CommandResult res;
  res.argv = argv;
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0)
    throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  int errFd = ::memfd_create("cryo-stderr", MFD_CLOEXEC);
  if (errFd < 0) throw std::runtime_error(fmt::format("memfd_create: {}", std::strerror(errno)));

  SpawnSpec spec;
  spec.argv = argv;
  spec.extraEnv = extraEnv;
  spec.stdoutFd = pipeFds[1];
  spec.stderrFd = errFd;
  int64_t start = nowNs();
  int64_t deadline = start + static_cast<int64_t>(timeoutSec) * 1000000000LL;
  pid_t pid = spawn(spec);
  ::close(pipeFds[1]);

  auto msLeft = [&] { return static_cast<int>(std::max<int64_t>(0, (deadline - nowNs()) / 1000000)); };
  char buf[4096];
  bool gotLine = false;
  for (;;) {
    pollfd p{pipeFds[0], POLLIN, 0};
    int r = ::poll(&p, 1, msLeft());
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      res.timedOut = true;
      break;
    }
    ssize_t n = ::read(pipeFds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    res.out.append(buf, static_cast<size_t>(n));
    if (!gotLine && res.out.find('\n') != std::string::npos) {
      gotLine = true;
      res.firstLineMs = static_cast<double>(nowNs() - start) / 1e6;
      if (firstLineOnly) break;
    }
  }
  ::close(pipeFds[0]);
  if (firstLineOnly && gotLine) res.out.resize(res.out.find('\n') + 1);
  if (res.timedOut || !waitFor(pid, msLeft(), res.status)) {
    res.timedOut = true;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &res.status, 0) < 0 && errno == EINTR) {
    }
  }
  res.wallMs = static_cast<double>(nowNs() - start) / 1e6;

  off_t size = ::lseek(errFd, 0, SEEK_END);
  if (size > 0) {
    res.err.resize(static_cast<size_t>(size));
    ssize_t n = ::pread(errFd, res.err.data(), res.err.size(), 0);
    res.err.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  ::close(errFd);
  return res;
}

}  // namespace cryo::bench
