// ProcessControl: starting target programs with redirected streams, waiting for them with a deadline, and looking at processes through /proc.
#include "ProcessControl.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace cryo::test {

namespace {

using Clock = std::chrono::steady_clock;

std::optional<std::string> readSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses "pid (comm) S ppid ..." where comm may hold spaces and parentheses.
struct StatLine {
  char state = '?';
  pid_t ppid = 0;
};

std::optional<StatLine> readStat(pid_t pid) {
  auto text = readSmallFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return std::nullopt;
  std::istringstream rest(text->substr(close + 2));
  StatLine s;
  rest >> s.state >> s.ppid;
  return s;
}

std::vector<int> numericEntries(const std::string& dir) {
  std::vector<int> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long v = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0') out.push_back(static_cast<int>(v));
  }
  ::closedir(d);
  return out;
}

}  // namespace

pid_t ProcessControl::spawnTarget(const std::vector<std::string>& argv,
                                  const std::filesystem::path& output,
                                  const std::vector<std::string>& extraEnv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e; e++) env.push_back(*e);
  for (const auto& e : extraEnv) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  std::string out = output.string();

  int errPipe[2];
  if (::pipe2(errPipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return -1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    ::close(errPipe[0]);
    ::close(errPipe[1]);
    return -1;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls from here to exec.
    int in = ::open("/dev/null", O_RDONLY);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = 0;
    if (in < 0 || o < 0) err = errno;
    if (!err && (::dup2(in, 0) < 0 || ::dup2(o, 1) < 0 || ::dup2(o, 2) < 0)) err = errno;
    if (!err) {
      if (in > 2) ::close(in);
      if (o > 2) ::close(o);
      // Everything above the standard streams closes at exec (errPipe too, which says exec worked).
      if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) err = errno;
    }
    if (!err) {
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
      ::execve(args[0], args.data(), env.data());
      err = errno;
    }
    ssize_t ignored = ::write(errPipe[1], &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  ::close(errPipe[1]);
  int childErr = 0;
  ssize_t n;
  do {
    n = ::read(errPipe[0], &childErr, sizeof childErr);
  } while (n < 0 && errno == EINTR);
  ::close(errPipe[0]);
  if (n > 0) {
    int status;
    ::waitpid(pid, &status, 0);
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(childErr);
    return -1;
  }
  return pid;
}

ExitStatus ProcessControl::waitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return ExitStatus::fromWaitStatus(status);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      // Not our child: we can only see it go away.
      ADD_FAILURE() << "pid " << pid << " is not a child of the test process (waitpid: "
                    << std::strerror(errno) << "); is the child subreaper set?";
      if (!waitUntilGone(pid, timeout)) {
        ::kill(pid, SIGKILL);
        ADD_FAILURE() << "pid " << pid << " did not end within " << timeout.count()
                      << " ms; killed it";
      }
      return ExitStatus::notAChild();
    }
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "pid " << pid << " did not end within " << timeout.count()
                    << " ms; killed it";
      return ExitStatus::timedOut();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void ProcessControl::reapIfZombie(pid_t pid) {
  int status;
  if (auto s = state(pid); s && (*s == 'Z' || *s == 'X')) ::waitpid(pid, &status, WNOHANG);
}

std::optional<char> ProcessControl::state(pid_t pid) {
  auto st = readStat(pid);
  if (!st) return std::nullopt;
  return st->state;
}

bool ProcessControl::isGone(pid_t pid) {
  auto s = state(pid);
  return !s || *s == 'Z' || *s == 'X';
}

bool ProcessControl::waitUntilGone(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!isGone(pid)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::set<pid_t> ProcessControl::descendants(pid_t root) {
  std::map<pid_t, pid_t> parent;
  for (int pid : numericEntries("/proc"))
    if (auto st = readStat(pid)) parent[pid] = st->ppid;
  std::set<pid_t> out, in{root};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, pp] : parent)
      if (in.count(pp) && in.insert(pid).second) {
        out.insert(pid);
        grew = true;
      }
  }
  return out;
}

bool ProcessControl::reapAll(const std::set<pid_t>& pids, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (pid_t pid : pids) {
    // Orphans of a killed tree are reparented to the test process (the subreaper): reaped
    // here, so that their pids are free again.
    for (;;) {
      int status;
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid || !state(pid)) break;
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  return true;
}

void ProcessControl::killTree(pid_t root, std::chrono::milliseconds timeout) {
  std::set<pid_t> rest = descendants(root);
  // Stopped first, all of them, then killed: no process of the tree runs on between two kills
  // (a pipeline's last stage would otherwise see its input end and print a partial result).
  ::kill(root, SIGSTOP);
  for (pid_t pid : rest) ::kill(pid, SIGSTOP);
  ::kill(root, SIGKILL);
  for (pid_t pid : rest) ::kill(pid, SIGKILL);
  EXPECT_TRUE(reapAll(rest, timeout)) << "processes of the tree of " << root << " did not end";
}

std::set<pid_t> ProcessControl::liveChildren() {
  std::set<pid_t> out;
  pid_t self = ::getpid();
  for (int pid : numericEntries("/proc")) {
    auto st = readStat(pid);
    if (st && st->ppid == self && st->state != 'Z' && st->state != 'X') out.insert(pid);
  }
  return out;
}

void ProcessControl::killAllChildren() {
  pid_t self = ::getpid();
  for (int pid : numericEntries("/proc")) {
    auto st = readStat(pid);
    if (!st || st->ppid != self) continue;
    if (st->state != 'Z' && st->state != 'X') ::kill(pid, SIGKILL);
    int status;
    ::waitpid(pid, &status, 0);
  }
}

std::set<pid_t> ProcessControl::threadIds(pid_t pid) {
  auto v = numericEntries("/proc/" + std::to_string(pid) + "/task");
  return {v.begin(), v.end()};
}

std::map<pid_t, std::string> ProcessControl::threadNames(pid_t pid) {
  std::map<pid_t, std::string> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (int tid : numericEntries(dir)) {
    auto comm = readSmallFile(dir + "/" + std::to_string(tid) + "/comm");
    if (!comm) continue;
    if (!comm->empty() && comm->back() == '\n') comm->pop_back();
    out[tid] = *comm;
  }
  return out;
}

std::map<int, std::string> ProcessControl::fdTargets(pid_t pid) {
  std::map<int, std::string> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (int fd : numericEntries(dir)) {
    char buf[4096];
    ssize_t n = ::readlink((dir + "/" + std::to_string(fd)).c_str(), buf, sizeof buf - 1);
    if (n < 0) continue;
    std::string target(buf, static_cast<size_t>(n));
    if (target.rfind("pipe:", 0) == 0) target = "pipe";
    else if (target.rfind("socket:", 0) == 0) target = "socket";
    else if (target.rfind("anon_inode:", 0) == 0) target = target.substr(0, target.find(' '));
    out[fd] = target;
  }
  return out;
}

pid_t ProcessControl::unusedPid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status;
  ::waitpid(pid, &status, 0);
  return pid;
}

}  // namespace cryo::test
