// BenchTarget: the lifecycle of the benchmark's target task, original and restored.
#include "BenchTarget.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "Subprocess.h"
#include "bench_pattern.h"

namespace cryo::bench {

namespace {

volatile sig_atomic_t g_live = -1;

std::string readFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The state letter of /proc/PID/task/TID/stat (after the last ')').
char taskState(pid_t pid, const std::string& tid) {
  std::string s = readFile(fmt::format("/proc/{}/task/{}/stat", pid, tid));
  size_t p = s.rfind(')');
  return (p == std::string::npos || p + 2 >= s.size()) ? '?' : s[p + 2];
}

}  // namespace

pid_t liveTaskForCleanup() { return g_live; }

BenchTarget::BenchTarget(const std::string& program, int mib, int threads)
    : mib_(mib), threads_(threads) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  SpawnSpec spec;
  spec.argv = {program, std::to_string(mib), std::to_string(threads), "3"};
  spec.passFds = {{3, p[1]}};
  spec.dieWithParent = true;
  pid_ = spawn(spec);
  g_live = pid_;
  ::close(p[1]);

  // Writing 1 GiB takes a second or so; allow plenty.
  std::string line;
  int64_t deadline = nowNs() + 120LL * 1000000000LL;
  char buf[256];
  while (line.find('\n') == std::string::npos) {
    pollfd pf{p[0], POLLIN, 0};
    int left = static_cast<int>(std::max<int64_t>(0, (deadline - nowNs()) / 1000000));
    int r = ::poll(&pf, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) break;
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(p[0]);
  if (line.rfind("ready ", 0) != 0) {
    int st = 0;
    std::string how = waitFor(pid_, 0, st) ? describeStatus(st) : "still running";
    kill();
    while (!line.empty() && line.back() == '\n') line.pop_back();
    throw std::runtime_error(fmt::format("{} {} {} did not get ready ({}): {}", program, mib,
                                         threads, how, line.empty() ? "no output" : line));
  }
  char* end = nullptr;
  addr_ = std::strtoull(line.c_str() + 6, &end, 16);
  bytes_ = std::strtoull(end, nullptr, 10);
}

BenchTarget::~BenchTarget() { kill(); }

uint64_t BenchTarget::residentBytes() const {
  std::istringstream in(readFile(fmt::format("/proc/{}/status", pid_)));
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      uint64_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    in.ignore(1 << 16, '\n');
  }
  throw std::runtime_error(fmt::format("pid {}: no VmRSS in /proc/{}/status", pid_, pid_));
}

void BenchTarget::checkRunning() const {
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    const_cast<BenchTarget*>(this)->pid_ = -1;
    g_live = -1;
    throw std::runtime_error(fmt::format("the task is gone: {}", describeStatus(st)));
  }
  if (r < 0)
    throw std::runtime_error(fmt::format("pid {} is not a child of the benchmark ({})", pid_,
                                         std::strerror(errno)));
  std::vector<std::string> tids;
  if (DIR* d = ::opendir(fmt::format("/proc/{}/task", pid_).c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') tids.emplace_back(e->d_name);
    ::closedir(d);
  }
  if (static_cast<int>(tids.size()) != threads_)
    throw std::runtime_error(
        fmt::format("pid {} has {} threads, expected {}", pid_, tids.size(), threads_));
  for (const auto& tid : tids) {
    char s = taskState(pid_, tid);
    if (s != 'R' && s != 'S' && s != 'D')
      throw std::runtime_error(fmt::format("pid {} thread {} is in state '{}'", pid_, tid, s));
  }
}

void BenchTarget::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int st;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  g_live = -1;
}

void BenchTarget::adoptRestored(pid_t pid) {
  pid_ = pid;
  g_live = pid;
  checkRunning();
  checkMemory();
  ::usleep(30 * 1000);  // a few rounds of its loop
  checkRunning();
}

void BenchTarget::checkMemory() const {
  // Every 64th page, and the last one; word 0 is the task's counter, the rest is fixed.
  const uint64_t pages = bytes_ / BENCH_PAGE_SIZE;
  std::vector<uint64_t> sample;
  for (uint64_t pg = 0; pg < pages; pg += 64) sample.push_back(pg);
  if (pages && sample.back() != pages - 1) sample.push_back(pages - 1);
  std::vector<uint64_t> buf(BENCH_WORDS_PER_PAGE * 1024);
  for (size_t i = 0; i < sample.size(); i += 1024) {
    size_t n = std::min<size_t>(1024, sample.size() - i);
    std::vector<iovec> local(n), remote(n);
    for (size_t k = 0; k < n; ++k) {
      local[k] = {buf.data() + k * BENCH_WORDS_PER_PAGE, BENCH_PAGE_SIZE};
      remote[k] = {reinterpret_cast<void*>(addr_ + sample[i + k] * BENCH_PAGE_SIZE),
                   BENCH_PAGE_SIZE};
    }
    ssize_t got = ::process_vm_readv(pid_, local.data(), n, remote.data(), n, 0);
    if (got != static_cast<ssize_t>(n * BENCH_PAGE_SIZE))
      throw std::runtime_error(fmt::format("pid {}: cannot read the restored memory at {:#x}: {}",
                                           pid_, addr_, got < 0 ? std::strerror(errno) : "short read"));
    for (size_t k = 0; k < n; ++k)
      for (uint64_t w = 1; w < BENCH_WORDS_PER_PAGE; ++w)
        if (buf[k * BENCH_WORDS_PER_PAGE + w] != bench_word(sample[i + k], w))
          throw std::runtime_error(fmt::format(
              "pid {}: restored memory differs at page {} word {} ({:#x}, expected {:#x})", pid_,
              sample[i + k], w, buf[k * BENCH_WORDS_PER_PAGE + w], bench_word(sample[i + k], w)));
  }
}

}  // namespace cryo::bench
