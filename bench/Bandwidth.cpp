// Bandwidth: memcpy and process_vm_readv references, each timed on its own.
#include "Bandwidth.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "Subprocess.h"
#include "bench_pattern.h"

namespace cryo::bench {

namespace {

uint8_t* mapFresh(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error(fmt::format("mmap of {} bytes: {}", bytes, std::strerror(errno)));
  return static_cast<uint8_t*>(p);
}

void fill(uint8_t* p, size_t bytes) {
  auto* w = reinterpret_cast<uint64_t*>(p);
  for (size_t page = 0; page < bytes / BENCH_PAGE_SIZE; ++page)
    for (size_t i = 0; i < BENCH_WORDS_PER_PAGE; ++i)
      w[page * BENCH_WORDS_PER_PAGE + i] = bench_word(page, i);
}

// Keeps the compiler from treating a copy as dead.
void clobber(void* p) { asm volatile("" : : "r"(p) : "memory"); }

double rate(size_t bytes, int64_t ns) { return ns > 0 ? static_cast<double>(bytes) * 1e9 / ns : 0; }

}  // namespace

Bandwidth::Bandwidth(size_t bytes) : bytes_(bytes) {
  src_ = mapFresh(bytes);
  dst_ = mapFresh(bytes);
  fill(src_, bytes);
  std::memset(dst_, 0x5a, bytes);

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(p[0]);
    void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t addr = 0;
    if (m != MAP_FAILED) {
      fill(static_cast<uint8_t*>(m), bytes);
      addr = reinterpret_cast<uint64_t>(m);
    }
    if (::write(p[1], &addr, sizeof addr) != sizeof addr) ::_exit(1);
    for (;;) ::pause();
  }
  helper_ = pid;
  ::close(p[1]);
  ssize_t n;
  while ((n = ::read(p[0], &helperAddr_, sizeof helperAddr_)) < 0 && errno == EINTR) {
  }
  ::close(p[0]);
  if (n != sizeof helperAddr_ || helperAddr_ == 0)
    throw std::runtime_error("the process_vm_readv helper could not set up its memory");
}

Bandwidth::~Bandwidth() {
  if (helper_ > 0) {
    ::kill(helper_, SIGKILL);
    int st;
    while (::waitpid(helper_, &st, 0) < 0 && errno == EINTR) {
    }
  }
  if (src_) ::munmap(src_, bytes_);
  if (dst_) ::munmap(dst_, bytes_);
}

double Bandwidth::memcpyTouched() {
  int64_t t = nowNs();
  std::memcpy(dst_, src_, bytes_);
  clobber(dst_);
  return rate(bytes_, nowNs() - t);
}

double Bandwidth::memcpyFresh() {
  uint8_t* fresh = mapFresh(bytes_);
  int64_t t = nowNs();
  std::memcpy(fresh, src_, bytes_);
  clobber(fresh);
  int64_t ns = nowNs() - t;
  ::munmap(fresh, bytes_);
  return rate(bytes_, ns);
}

double Bandwidth::processVmReadv() {
  constexpr size_t kIov = 16u << 20;  // 16 MiB per iovec, up to 64 iovecs per call
  std::vector<iovec> local, remote;
  int64_t t = nowNs();
  size_t done = 0;
  while (done < bytes_) {
    local.clear();
    remote.clear();
    size_t batch = 0;
    for (size_t off = done; off < bytes_ && local.size() < 64; off += kIov) {
      size_t len = std::min(kIov, bytes_ - off);
      local.push_back({dst_ + off, len});
      remote.push_back({reinterpret_cast<void*>(helperAddr_ + off), len});
      batch += len;
    }
    ssize_t n = ::process_vm_readv(helper_, local.data(), local.size(), remote.data(),
                                   remote.size(), 0);
    if (n <= 0)
      throw std::runtime_error(fmt::format("process_vm_readv: {}", std::strerror(errno)));
    done += static_cast<size_t>(n);  // a short read restarts after what was read
  }
  int64_t ns = nowNs() - t;
  clobber(dst_);
  return rate(bytes_, ns);
}

}  // namespace cryo::bench
