// PatternChild: a forked child holding pages in known states, for the page copiers' tests.
#include "PatternChild.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>

namespace cryo::test {

PatternChild::PatternChild(uint64_t bulkPages) {
  constexpr uint64_t kPage = kPatternPage;
  int fds[2];
  if (::pipe(fds) != 0) return;
  pid = ::fork();
  if (pid == 0) {
    auto* p = static_cast<uint8_t*>(::mmap(nullptr, 48 * kPage, PROT_READ | PROT_WRITE,
                                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) ::_exit(1);
    for (uint64_t page : {0, 2, 4, 17})
      for (uint64_t i = 0; i < kPage; ++i) p[page * kPage + i] = pattern(page, i);
    ::madvise(p + 4 * kPage, kPage, MADV_DONTNEED);
    std::memset(p + 5 * kPage, 0, kPage);
    uint64_t a[2] = {reinterpret_cast<uint64_t>(p), 0};
    if (bulkPages) {
      auto* b = static_cast<uint8_t*>(::mmap(nullptr, bulkPages * kPage, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
      if (b == MAP_FAILED) ::_exit(1);
      for (uint64_t page = 0; page < bulkPages; ++page)
        for (uint64_t i = 0; i < kPage; ++i) b[page * kPage + i] = pattern(page, i);
      a[1] = reinterpret_cast<uint64_t>(b);
    }
    if (::write(fds[1], a, sizeof a) != sizeof a) ::_exit(1);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  uint64_t a[2] = {0, 0};
  if (::read(fds[0], a, sizeof a) == sizeof a) {
    addr = a[0];
    bulk = a[1];
  }
  ::close(fds[0]);
}

PatternChild::~PatternChild() {
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

}  // namespace cryo::test
