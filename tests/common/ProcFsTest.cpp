// ProcFsTest: the /proc readers parse what the kernel writes: mappings with odd file names,
// smaps flags, a zombie's stat with an odd command name, status keys.
#include "common/ProcFs.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace cryo {
namespace {

const MapsEntry* find(const std::vector<MapsEntry>& maps, const void* addr) {
  auto a = reinterpret_cast<uint64_t>(addr);
  for (const MapsEntry& m : maps)
    if (m.start <= a && a < m.end) return &m;
  return nullptr;
}

TEST(ProcFsTest, maps_reads_file_names_with_spaces_offsets_and_deleted_files) {
  char dir[] = "/tmp/cryo-procfs-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/a file  with spaces";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 3 * 4096), 0);
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  void* p = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 4096);
  ASSERT_NE(p, MAP_FAILED);
  std::string gone = std::string(dir) + "/gone";
  int gfd = ::open(gone.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(gfd, 0);
  ASSERT_EQ(::ftruncate(gfd, 4096), 0);
  void* q = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, gfd, 0);
  ASSERT_NE(q, MAP_FAILED);
  ::unlink(gone.c_str());

  auto maps = ProcFs::maps(::getpid(), false);
  const MapsEntry* m = find(maps, p);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->path, path);
  EXPECT_EQ(m->start, reinterpret_cast<uint64_t>(p));
  EXPECT_EQ(m->size(), 4096u);
  EXPECT_EQ(m->offset, 4096u);
  EXPECT_EQ(m->inode, st.st_ino);
  EXPECT_EQ(makedev(m->devMajor, m->devMinor), st.st_dev);
  EXPECT_TRUE(m->read);
  EXPECT_FALSE(m->write);
  EXPECT_FALSE(m->exec);
  EXPECT_TRUE(m->shared);
  EXPECT_FALSE(m->deleted());
  const MapsEntry* d = find(maps, q);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->path, gone + " (deleted)");
  EXPECT_TRUE(d->deleted());
  EXPECT_TRUE(d->write);
  EXPECT_FALSE(d->shared);
  const MapsEntry* anon = find(maps, &maps);  // (the stack)
  ASSERT_NE(anon, nullptr);
  EXPECT_EQ(anon->path, "[stack]");
  EXPECT_EQ(anon->inode, 0u);

  ::munmap(p, 4096);
  ::munmap(q, 4096);
  ::close(fd);
  ::close(gfd);
  std::filesystem::remove_all(dir);
}

TEST(ProcFsTest, maps_with_flags_reads_each_mappings_vmflags) {
  // A child that maps a region, marks it and waits: its layout holds still while listed.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    void* p = ::mmap(nullptr, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || ::madvise(p, 4 * 4096, MADV_DONTFORK) != 0) ::_exit(1);
    uint64_t a = reinterpret_cast<uint64_t>(p), sp = reinterpret_cast<uint64_t>(&a);
    if (::write(fds[1], &a, sizeof a) != sizeof a || ::write(fds[1], &sp, sizeof sp) != sizeof sp)
      ::_exit(1);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  uint64_t addr = 0, sp = 0;
  ASSERT_EQ(::read(fds[0], &addr, sizeof addr), static_cast<ssize_t>(sizeof addr));
  ASSERT_EQ(::read(fds[0], &sp, sizeof sp), static_cast<ssize_t>(sizeof sp));
  ::close(fds[0]);
  auto maps = ProcFs::maps(child, true);
  const MapsEntry* m = find(maps, reinterpret_cast<void*>(addr));
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->hasFlag("dc"));
  EXPECT_TRUE(m->hasFlag("rd"));
  EXPECT_TRUE(m->hasFlag("wr"));
  EXPECT_FALSE(m->hasFlag("ex"));
  const MapsEntry* stack = find(maps, reinterpret_cast<void*>(sp));
  ASSERT_NE(stack, nullptr);
  EXPECT_TRUE(stack->hasFlag("gd"));
  EXPECT_FALSE(stack->hasFlag("dc"));
  // The cheap listing takes the same flags from an earlier one when nothing changed.
  bool reused = false;
  auto again = ProcFs::mapsWithFlagsFrom(child, maps, &reused);
  EXPECT_TRUE(reused);
  EXPECT_EQ(again, maps);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST(ProcFsTest, stat_of_a_zombie_reads_its_name_parent_and_exit_status) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::prctl(PR_SET_NAME, "a (b) c");
    ::_exit(3);
  }
  ProcStat s;
  for (int i = 0; i < 2000; ++i) {
    s = ProcFs::stat(child);
    if (s.state == 'Z') break;
    ::usleep(1000);
  }
  EXPECT_EQ(s.state, 'Z');
  EXPECT_EQ(s.comm, "a (b) c");
  EXPECT_EQ(s.ppid, ::getpid());
  EXPECT_EQ(s.exitCode, 3 << 8);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(status, s.exitCode);
}

TEST(ProcFsTest, stat_of_a_live_process_reads_its_layout) {
  ProcStat s = ProcFs::stat(::getpid());
  EXPECT_EQ(s.state, 'R');
  EXPECT_EQ(s.ppid, ::getppid());
  EXPECT_GE(s.numThreads, 1);
  EXPECT_NE(s.startCode, 0u);
  EXPECT_LT(s.startCode, s.endCode);
  EXPECT_NE(s.startStack, 0u);
  EXPECT_LE(s.argStart, s.argEnd);
  EXPECT_LE(s.envStart, s.envEnd);
  EXPECT_EQ(s.exitSignal, SIGCHLD);
}

TEST(ProcFsTest, status_reads_every_key_with_its_value) {
  auto st = ProcFs::status("/proc/self/status");
  EXPECT_EQ(st.at("Tgid"), std::to_string(::getpid()));
  EXPECT_EQ(st.at("Pid"), std::to_string(::getpid()));
  EXPECT_EQ(st.at("PPid"), std::to_string(::getppid()));
  EXPECT_EQ(st.at("State").substr(0, 1), "R");
  EXPECT_EQ(st.at("Uid").find('\t') != std::string::npos, true);  // four ids
  EXPECT_TRUE(st.count("Umask"));
  EXPECT_TRUE(st.count("CapEff"));
  EXPECT_FALSE(st.count(""));
}

}  // namespace
}  // namespace cryo
