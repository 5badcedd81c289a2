// CommandRunner: runs a command with stdin from /dev/null, captures its stdout and stderr and exit status, and kills it after a deadline.
#include "CommandRunner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

extern char** environ;

namespace cryo::test {

namespace {

using Clock = std::chrono::steady_clock;

// Reads whatever is available without blocking; returns false at end of file.
bool drain(int fd, std::string& into) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

}  // namespace

CommandResult CommandRunner::run(const std::vector<std::string>& argv,
                                 const std::map<std::string, std::string>& env,
                                 std::chrono::milliseconds timeout) {
  CommandResult res;
  res.argv = argv;
  res.env = env;

  std::vector<std::string> envStrings;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    std::string key = kv.substr(0, kv.find('='));
    if (key == "CRYO_FAULT" || env.count(key)) continue;
    envStrings.push_back(kv);
  }
  for (const auto& [k, v] : env) envStrings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : envStrings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  int outPipe[2], errPipe[2];
  if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0) {
    res.err = std::string("test harness: pipe2: ") + std::strerror(errno);
    return res;
  }
  auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(outPipe[1], 1) < 0 || ::dup2(errPipe[1], 2) < 0)
      ::_exit(126);
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp.data());
    const char msg[] = "test harness: exec failed\n";
    ssize_t ignored = ::write(2, msg, sizeof msg - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::close(outPipe[1]);
  ::close(errPipe[1]);
  if (pid < 0) {
    res.err = std::string("test harness: fork: ") + std::strerror(errno);
    ::close(outPipe[0]);
    ::close(errPipe[0]);
    return res;
  }
  ::fcntl(outPipe[0], F_SETFL, O_NONBLOCK);
  ::fcntl(errPipe[0], F_SETFL, O_NONBLOCK);

  bool outOpen = true, errOpen = true;
  auto deadline = start + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      // Whatever the command wrote is in the pipes now. A process it left behind may still
      // hold the write ends, so take what is there and do not wait for end of file.
      if (outOpen) drain(outPipe[0], res.out);
      if (errOpen) drain(errPipe[0], res.err);
      res.status = ExitStatus::fromWaitStatus(status);
      break;
    }
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      if (outOpen) drain(outPipe[0], res.out);
      if (errOpen) drain(errPipe[0], res.err);
      res.status = ExitStatus::timedOut();
      break;
    }
    pollfd fds[2];
    nfds_t n = 0;
    if (outOpen) fds[n++] = {outPipe[0], POLLIN, 0};
    if (errOpen) fds[n++] = {errPipe[0], POLLIN, 0};
    if (n > 0) {
      ::poll(fds, n, 10);
    } else {
      ::usleep(5000);
    }
    if (outOpen) outOpen = drain(outPipe[0], res.out);
    if (errOpen) errOpen = drain(errPipe[0], res.err);
  }
  ::close(outPipe[0]);
  ::close(errPipe[0]);

  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  std::cout << "[run] " << res.commandLine() << " -> " << res.status.describe() << " (" << ms << " ms)\n";
  if (!res.err.empty()) std::cout << "[run] stderr: " << res.err << (res.err.back() == '\n' ? "" : "\n");
  std::cout.flush();
  return res;
}

}  // namespace cryo::test
