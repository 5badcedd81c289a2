// TrackerTest: every dirty-page backend against the page_writer program: it reports exactly
// the pages written (plus a few of the program's own stack and libc pages), every new, grown
// or moved mapping whole, dropped pages, and nothing twice; tracking changes nothing the task
// does, and a cryo that dies leaves the task running. A backend this kernel lacks is skipped.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "realtime/WorkShare.h"
#include "inject/ProcessFreezer.h"
#include "track/FrozenTarget.h"
#include "track/HashTracker.h"
#include "track/Pagemap.h"
#include "track/SoftDirtyTracker.h"
#include "track/TrackerFactory.h"
#include "track/UffdWpTracker.h"
#include "PageWriter.h"

namespace cryo::test {

namespace {

constexpr uint64_t kPage = PageWriter::kPage;

// Pages the program itself writes around one command (its stack, the command line buffer and
// region table in .bss, libc's data): a collect may report up to this many beyond the pages a
// test wrote. Measured: 3 to 5.
constexpr uint64_t kNoisePages = 8;

// The backends under test: "uffd-wp-ioctl" is uffd-wp protecting with UFFDIO_WRITEPROTECT
// instead of PAGEMAP_SCAN (the path taken where the scan cannot protect a range).
const std::vector<std::string> kBackends = {"uffd-wp", "uffd-wp-ioctl", "soft-dirty", "hash"};

std::string baseName(const std::string& backend) {
  return backend == "uffd-wp-ioctl" ? "uffd-wp" : backend;
}

std::unique_ptr<DirtyTracker> makeTracker(const std::string& backend) {
  if (backend == "uffd-wp-ioctl") {
    UffdWpTracker::Options o;
    o.protectWithScan = false;
    return std::make_unique<UffdWpTracker>(o);
  }
  return TrackerFactory::create(backend);
}

// Pages FIRST, FIRST+STRIDE, ... of a region, as a set.
DirtySet pagesOf(uint64_t region, uint64_t first, uint64_t count, uint64_t stride = 1) {
  DirtySet s;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t a = region + (first + i * stride) * kPage;
    s.add(a, a + kPage);
  }
  return s;
}

DirtySet range(uint64_t start, uint64_t end) { return DirtySet{{start, end}}; }

std::string cmd(const std::string& verb, std::initializer_list<uint64_t> args) {
  std::string s = verb;
  for (uint64_t a : args) s.append(" ").append(std::to_string(a));
  return s;
}

bool anyMappingHasFlag(pid_t pid, const char* flag) {
  for (const MapsEntry& m : ProcFs::maps(pid, true))
    if (m.hasFlag(flag)) return true;
  return false;
}

// A file of `pages` pages of known bytes, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(uint64_t pages) {
    char name[] = "/tmp/cryo-track-XXXXXX";
    int fd = ::mkstemp(name);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    path_ = name;
    std::string data(pages * kPage, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / kPage);
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()))
      throw std::runtime_error("write failed");
    ::close(fd);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

class Tracking : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    BackendStatus s = TrackerFactory::status(baseName(GetParam()));
    if (!s.available) GTEST_SKIP() << s.name << " is unavailable on this machine: " << s.detail;
    tracker_ = makeTracker(GetParam());
  }

  // How cryo calls a tracker: with the task frozen.
  void arm(PageWriter& w) {
    ProcessFreezer f(w.pid());
    FrozenTarget t(f);
    tracker_->arm(t);
  }
  DirtySet collect(PageWriter& w, bool rearmLater = false) {
    ProcessFreezer f(w.pid());
    FrozenTarget t(f);
    return tracker_->collect(t, rearmLater);
  }

  // `d` holds exactly `written` inside [start, end), and at most kNoisePages outside `written`.
  void expectExactly(const DirtySet& d, const DirtySet& written, uint64_t start, uint64_t end) {
    EXPECT_EQ(d.clip(start, end).describe(), written.describe())
        << "inside the region " << std::hex << start << "-" << end;
    DirtySet extra = d.subtract(written);
    EXPECT_LE(extra.pages(kPage), kNoisePages) << "reported beyond the pages written: " << extra.describe(20);
  }

  std::unique_ptr<DirtyTracker> tracker_;
};

TEST_P(Tracking, collect_reports_exactly_the_pages_written) {
  PageWriter w;
  arm(w);
  w.send(cmd("write", {0, 5, 37, 3}));
  DirtySet written = pagesOf(w.regionA(), 5, 37, 3);
  DirtySet d = collect(w);
  expectExactly(d, written, w.regionA(), w.regionA() + w.pagesA() * kPage);
  EXPECT_TRUE(d.clip(w.regionB(), w.regionB() + w.pagesB() * kPage).empty());
}

TEST_P(Tracking, pages_in_mappings_created_after_arming_are_reported) {
  PageWriter w;
  arm(w);
  auto r = w.send("mmap 64 5");
  uint64_t id = std::stoull(r[1]), m = PageWriter::hex(r[2]);
  DirtySet d = collect(w);
  EXPECT_TRUE(d.covers(m, m + 64 * kPage)) << "new mapping " << std::hex << m << ": " << d.describe(20);
  // From now on it is tracked like the rest.
  w.send(cmd("write", {id, 10, 3, 4}));
  d = collect(w);
  expectExactly(d, pagesOf(m, 10, 3, 4), m, m + 64 * kPage);
}

TEST_P(Tracking, new_thread_stack_is_reported) {
  PageWriter w;
  arm(w);
  auto r = w.send("thread");
  uint64_t lo = PageWriter::hex(r[1]), hi = PageWriter::hex(r[2]);
  DirtySet d = collect(w);
  EXPECT_TRUE(d.covers(lo, hi)) << "thread stack " << std::hex << lo << "-" << hi << ": " << d.describe(20);
  // The thread waits without writing: its stack is quiet now.
  w.send("nop");
  d = collect(w);
  EXPECT_LE(d.pages(kPage), kNoisePages) << d.describe(20);
}

TEST_P(Tracking, moved_mapping_is_reported) {
  PageWriter w;
  auto r = w.send("mmap 32 32");
  uint64_t id = std::stoull(r[1]);
  arm(w);
  r = w.send(cmd("mremap", {id}));
  uint64_t m = PageWriter::hex(r[1]);
  DirtySet d = collect(w);
  EXPECT_TRUE(d.covers(m, m + 32 * kPage)) << "moved to " << std::hex << m << ": " << d.describe(20);
  w.send(cmd("write", {id, 7, 2, 1}));
  d = collect(w);
  expectExactly(d, pagesOf(m, 7, 2), m, m + 32 * kPage);
}

TEST_P(Tracking, heap_growth_is_reported) {
  PageWriter w;
  w.send("sbrk 4");  // the heap exists before arming
  arm(w);
  auto r = w.send("sbrk 40");
  uint64_t id = std::stoull(r[1]), start = PageWriter::hex(r[2]), end = PageWriter::hex(r[3]);
  DirtySet d = collect(w);
  EXPECT_TRUE(d.covers(start, end)) << "heap growth " << std::hex << start << "-" << end << ": "
                                    << d.describe(20);
  w.send(cmd("write", {id, 1, 2, 20}));
  d = collect(w);
  expectExactly(d, pagesOf(start, 1, 2, 20), start, end);
}

// The [stack] mapping grows past where it ended while the task writes its older part: the
// writes to the older part, followed since the last collect, are reported along with the new
// part (a tracker that protected the grown mapping whole as new would lose them).
TEST_P(Tracking, writes_to_a_mapping_that_grew_are_reported) {
  PageWriter w;
  arm(w);
  w.send("stack 256");  // past the stack's first 132 KiB: it has grown, and is followed now
  collect(w);
  auto r = w.send("stack 512");  // grows again; main's frame written meanwhile
  uint64_t frame = PageWriter::hex(r[1]);
  DirtySet d = collect(w);
  EXPECT_TRUE(d.covers(frame, frame + 4 * kPage))
      << "main's frame " << std::hex << frame << ": " << d.describe(20);
}

TEST_P(Tracking, nothing_written_reports_almost_nothing) {
  PageWriter w;
  arm(w);
  w.send("nop");
  DirtySet d = collect(w);
  EXPECT_LE(d.pages(kPage), kNoisePages) << d.describe(20);
  EXPECT_TRUE(d.clip(w.regionA(), w.regionA() + w.pagesA() * kPage).empty());
  EXPECT_TRUE(d.clip(w.regionB(), w.regionB() + w.pagesB() * kPage).empty());
}

TEST_P(Tracking, second_collect_does_not_report_pages_again) {
  PageWriter w;
  uint64_t a = w.regionA(), end = a + w.pagesA() * kPage;
  arm(w);
  w.send(cmd("write", {0, 0, 50, 2}));
  DirtySet first = collect(w);
  expectExactly(first, pagesOf(a, 0, 50, 2), a, end);
  w.send(cmd("write", {0, 1, 50, 2}));
  DirtySet second = collect(w);
  expectExactly(second, pagesOf(a, 1, 50, 2), a, end);
  w.send("nop");
  DirtySet third = collect(w);
  EXPECT_TRUE(third.clip(a, end).empty()) << third.describe();
  EXPECT_LE(third.pages(kPage), kNoisePages);
}

// The final freeze of a pre-copy checkpoint leaves re-arming to the next round: what it
// reported may come again, and no write after it (to those pages or others) is lost.
TEST_P(Tracking, collect_leaving_rearm_to_the_next_loses_no_write) {
  PageWriter w;
  uint64_t a = w.regionA(), end = a + w.pagesA() * kPage;
  arm(w);
  w.send(cmd("write", {0, 0, 50, 2}));
  DirtySet first = collect(w, true);
  expectExactly(first, pagesOf(a, 0, 50, 2), a, end);
  // Some of the pages just reported written again, and others for the first time.
  w.send(cmd("write", {0, 0, 25, 4}));
  w.send(cmd("write", {0, 1, 50, 2}));
  DirtySet second = collect(w).clip(a, end);
  DirtySet mustHave = pagesOf(a, 0, 25, 4);
  mustHave.add(pagesOf(a, 1, 50, 2));
  EXPECT_TRUE(mustHave.subtract(second).empty())
      << "writes lost: " << mustHave.subtract(second).describe(20);
  DirtySet mayHave = pagesOf(a, 0, 50, 2);
  mayHave.add(pagesOf(a, 1, 50, 2));
  EXPECT_TRUE(second.subtract(mayHave).empty())
      << "reported beyond what was written: " << second.subtract(mayHave).describe(20);
  // That collect re-armed everything.
  w.send("nop");
  DirtySet third = collect(w);
  EXPECT_TRUE(third.clip(a, end).empty()) << third.describe();
}

// A freeze's collect runs on a helper thread whose loops the tracer thread may join
// (WorkShare): a large mapping is then scanned in pieces by both, and the answer is the same.
TEST_P(Tracking, collect_shared_between_two_threads_reports_exactly_the_pages_written) {
  PageWriter w(24576);  // 96 MiB: three pieces of the uffd-wp scan
  uint64_t a = w.regionA(), end = a + w.pagesA() * kPage;
  auto sharedCollect = [&](bool rearmLater) {
    ProcessFreezer f(w.pid());
    FrozenTarget t(f);
    WorkShare share;
    share.open();
    DirtySet d;
    std::exception_ptr err;
    std::thread owner([&] {
      try {
        WorkShare::Job job(share);
        d = tracker_->collect(t, rearmLater);
      } catch (...) {
        err = std::current_exception();
      }
      share.close();
    });
    share.join();
    owner.join();
    if (err) std::rethrow_exception(err);
    return d;
  };
  arm(w);
  // Pages on both sides of every piece's bounds (8192 pages each), and between them.
  DirtySet written;
  for (uint64_t first : {0, 8191, 8192, 12000, 16383, 16384, 24575}) {
    w.send(cmd("write", {0, first, 1, 1}));
    written.add(pagesOf(a, first, 1));
  }
  w.send(cmd("write", {0, 3, 400, 61}));
  written.add(pagesOf(a, 3, 400, 61));
  expectExactly(sharedCollect(true), written, a, end);
  // Left writable, reported again; then re-armed by an ordinary collect.
  w.send(cmd("write", {0, 5000, 10, 7}));
  DirtySet again = written;
  again.add(pagesOf(a, 5000, 10, 7));
  DirtySet second = sharedCollect(false).clip(a, end);
  EXPECT_TRUE(pagesOf(a, 5000, 10, 7).subtract(second).empty()) << second.describe(20);
  EXPECT_TRUE(second.subtract(again).empty()) << second.subtract(again).describe(20);
  w.send("nop");
  EXPECT_TRUE(sharedCollect(false).clip(a, end).empty());
}

TEST_P(Tracking, kernel_writes_are_reported) {
  PageWriter w;
  arm(w);
  w.send(cmd("kwrite", {0, 9, 6, 5}));  // read() from a pipe into the pages
  DirtySet d = collect(w);
  expectExactly(d, pagesOf(w.regionA(), 9, 6, 5), w.regionA(), w.regionA() + w.pagesA() * kPage);
}

TEST_P(Tracking, dontneed_pages_are_reported) {
  PageWriter w(4096);
  uint64_t a = w.regionA(), end = a + w.pagesA() * kPage;
  arm(w);
  w.send(cmd("dontneed", {0, 100, 5}));
  DirtySet d = collect(w);
  expectExactly(d, pagesOf(a, 100, 5), a, end);
  // A whole 2 MiB: the kernel may free the page table too.
  auto r = w.send("dontneed2m 0");
  uint64_t s = PageWriter::hex(r[1]);
  d = collect(w);
  // Pages dropped before held no data any more: dropping them again changes nothing, but may
  // be reported again (uffd-wp marks small mappings whole, and a drop removes the marker).
  DirtySet dropped = range(s, s + (2 << 20));
  DirtySet before = pagesOf(a, 100, 5);
  DirtySet inside = d.clip(a, end);
  EXPECT_TRUE(inside.subtract(before).describe() == dropped.subtract(before).describe())
      << "reported " << inside.describe() << ", dropped " << dropped.describe();
  EXPECT_TRUE(inside.subtract(dropped).empty()) << "reported " << inside.describe();
  // Dropped pages that are written again are reported once more, and only then.
  w.send(cmd("write", {0, 101, 2, 1}));
  d = collect(w);
  expectExactly(d, pagesOf(a, 101, 2), a, end);
}

TEST_P(Tracking, never_populated_pages_are_reported_only_once_written) {
  PageWriter w;
  uint64_t b = w.regionB(), end = b + w.pagesB() * kPage;
  arm(w);
  w.send(cmd("read", {1, 0, 10}));  // maps the shared zero page
  w.send(cmd("write", {1, 20, 3, 1}));
  DirtySet d = collect(w);
  expectExactly(d, pagesOf(b, 20, 3), b, end);
  w.send(cmd("read", {1, 0, 30}));
  d = collect(w);
  EXPECT_TRUE(d.clip(b, end).empty()) << d.describe();
}

TEST_P(Tracking, private_file_copies_are_followed) {
  TempFile file(16);
  PageWriter w;
  auto r = w.send("filemap " + file.path() + " 16");
  uint64_t id = std::stoull(r[1]), f = PageWriter::hex(r[2]), end = f + 16 * kPage;
  w.send(cmd("write", {id, 0, 4, 1}));  // private copies of pages 0-3
  w.send(cmd("read", {id, 10, 2}));     // page cache only
  arm(w);
  w.send(cmd("dontneed", {id, 1, 1}));  // page 1 is the file's again
  w.send(cmd("write", {id, 8, 1, 1}));  // a new copy
  w.send(cmd("read", {id, 12, 2}));
  DirtySet d = collect(w);
  DirtySet expected = pagesOf(f, 1, 1);
  expected.add(pagesOf(f, 8, 1));
  expectExactly(d, expected, f, end);
  w.send(cmd("write", {id, 2, 1, 1}));
  d = collect(w);
  expectExactly(d, pagesOf(f, 2, 1), f, end);
}

TEST_P(Tracking, unmapped_region_is_not_reported) {
  PageWriter w;
  auto r = w.send("mmap 16 16");
  uint64_t id = std::stoull(r[1]), m = PageWriter::hex(r[2]);
  arm(w);
  w.send(cmd("munmap", {id}));
  DirtySet d = collect(w);
  EXPECT_TRUE(d.clip(m, m + 16 * kPage).empty()) << d.describe();
  EXPECT_LE(d.pages(kPage), kNoisePages);
}

TEST_P(Tracking, exec_starts_over) {
  PageWriter w;
  uint64_t oldA = w.regionA();
  arm(w);
  w.send("exec");
  uint64_t a = w.regionA(), end = a + w.pagesA() * kPage;
  DirtySet d = collect(w);
  // A new address space: everything in it is new (checked where the region moved, as it
  // does with address space randomization; an identical page at the same place may go unseen
  // by the hash backend, and needs no saving).
  if (a != oldA) {
    EXPECT_TRUE(d.covers(a, end)) << std::hex << a << ": " << d.describe(20);
  }
  w.send(cmd("write", {0, 3, 5, 2}));
  d = collect(w);
  expectExactly(d, pagesOf(a, 3, 5, 2), a, end);
}

// A freeze may run the collect on a helper thread only when it needs no injection (a ptrace
// request from that thread would fail): never before arming, and for uffd-wp, once armed,
// until an exec takes the registrations away (the userfaultfd is then made anew, injected).
TEST_P(Tracking, collect_needs_injection_only_to_set_up) {
  PageWriter w;
  auto without = [&] {
    ProcessFreezer f(w.pid());
    FrozenTarget t(f);
    return tracker_->collectsWithoutInjection(t);
  };
  EXPECT_FALSE(without()) << "a tracker never armed cannot collect";
  arm(w);
  bool uffd = baseName(GetParam()) == "uffd-wp";
  EXPECT_EQ(without(), uffd);
  w.send(cmd("write", {0, 3, 5, 2}));
  collect(w);
  EXPECT_EQ(without(), uffd);
  w.send("exec");
  EXPECT_FALSE(without()) << "after an exec the tracker must set up again";
  uint64_t a = w.regionA(), end = a + w.pagesA() * kPage;
  collect(w);
  EXPECT_EQ(without(), uffd);
  w.send(cmd("write", {0, 7, 3, 1}));
  expectExactly(collect(w), pagesOf(a, 7, 3), a, end);
}

TEST_P(Tracking, leaves_no_markers_once_tracking_ends) {
  // While tracking, never-populated pages of small anonymous mappings may carry write-protect
  // markers (shown as swap entries); once tracking ends nothing of it may make never-used
  // memory look used: /proc/PID/pagemap shows nothing (not even "swapped") for pages that
  // hold no data.
  PageWriter w;
  arm(w);
  w.send(cmd("write", {1, 5, 2, 1}));
  collect(w);
  w.send(cmd("dontneed", {0, 10, 4}));
  collect(w);
  tracker_.reset();
  Pagemap pm(w.pid());
  pm.read(w.regionB(), w.regionB() + w.pagesB() * kPage, [&](uint64_t addr, const uint64_t* e, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      uint64_t page = (addr - w.regionB()) / kPage + i;
      bool present = e[i] & Pagemap::kPresent;
      EXPECT_EQ(present, page == 5 || page == 6) << "page " << page;
      EXPECT_FALSE(e[i] & Pagemap::kSwapped) << "page " << page << " entry " << std::hex << e[i];
    }
  });
  pm.read(w.regionA() + 10 * kPage, w.regionA() + 14 * kPage, [&](uint64_t, const uint64_t* e, size_t n) {
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(e[i] & (Pagemap::kPresent | Pagemap::kSwapped), 0u);
  });
}

TEST_P(Tracking, fd_table_is_unchanged) {
  PageWriter w;
  auto before = ProcFs::fds(w.pid());
  arm(w);
  w.send("nop");
  collect(w);
  EXPECT_EQ(ProcFs::fds(w.pid()), before);
}

TEST_P(Tracking, collect_without_arm_fails) {
  PageWriter w;
  EXPECT_THROW(collect(w), Error);
}

namespace {

// Commands that exercise every kind of change, and the answers that must not depend on
// tracking (checksums of all memory, bytes read).
std::vector<std::string> script(const std::string& file) {
  return {"write 0 0 100 7", "sum", "kwrite 0 3 20 11", "sum", "dontneed 0 40 30", "sum",
          "dontneed2m 0", "sum", "read 1 0 20", "write 1 30 10 3", "sum", "mmap 64 10",
          "write 2 20 5 2", "sum", "sbrk 16", "sum", "mremap 2", "write 2 0 4 1", "sum",
          "filemap " + file + " 16", "write 4 0 6 2", "read 4 0 16", "dontneed 4 0 3", "sum",
          "read 4 0 16", "thread", "write 0 1 200 3", "sum"};
}

// Runs the script; `between` runs after each command. Returns the answers that matter.
std::vector<std::string> runScript(PageWriter& w, const std::vector<std::string>& commands,
                                   const std::function<void()>& between) {
  std::vector<std::string> out;
  for (const auto& c : commands) {
    auto r = w.send(c);
    if (r[0] == "sum" || c.rfind("read", 0) == 0) out.push_back(c + " -> " + r.back());
    if (between) between();
  }
  return out;
}

}  // namespace

TEST_P(Tracking, tracking_does_not_change_the_task) {
  TempFile file(16);
  std::vector<std::string> reference;
  {
    PageWriter w;
    reference = runScript(w, script(file.path()), nullptr);
    EXPECT_EQ(w.quit(), 0);
  }
  PageWriter w;
  arm(w);
  uint64_t reported = 0;
  auto tracked = runScript(w, script(file.path()), [&] { reported += collect(w).pages(kPage); });
  EXPECT_EQ(tracked, reference);
  EXPECT_GT(reported, 0u);
  tracker_.reset();  // cryo lets go
  w.send("write 0 2 10 1");
  EXPECT_EQ(w.quit(), 0) << "the task must end normally";
}

namespace {

// The script's answers when nothing ever tracks the program.
std::vector<std::string> untrackedAnswers(const std::vector<std::string>& commands) {
  PageWriter w;
  return runScript(w, commands, nullptr);
}

}  // namespace

TEST_P(Tracking, cryo_dying_leaves_task_running) {
  // A helper process (standing for cryo) arms tracking and is killed while it still holds
  // the task frozen: the kernel lets the task go, and it runs on as if nothing happened.
  TempFile file(16);
  auto reference = untrackedAnswers(script(file.path()));
  PageWriter w;
  std::string backend = GetParam();
  pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    try {
      auto t = makeTracker(backend);
      ProcessFreezer f(w.pid());
      {
        FrozenTarget target(f);
        t->arm(target);
      }
      ::raise(SIGKILL);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(helper, &status, 0), helper);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "helper status " << status;
  if (baseName(backend) == "uffd-wp") {
    EXPECT_FALSE(anyMappingHasFlag(w.pid(), "uw")) << "the userfaultfd went with its holder";
  }
  EXPECT_EQ(runScript(w, script(file.path()), nullptr), reference);
  EXPECT_EQ(w.quit(), 0);
}

TEST_P(Tracking, cryo_exiting_while_task_runs_leaves_it_running) {
  // The helper arms, lets the task run and write (tracked), then is killed.
  TempFile file(16);
  auto commands = script(file.path());
  auto reference = untrackedAnswers(commands);
  PageWriter w;
  std::string backend = GetParam();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    ::close(ready[0]);
    try {
      auto t = makeTracker(backend);
      {
        ProcessFreezer f(w.pid());
        FrozenTarget target(f);
        t->arm(target);
      }
      char c = 1;
      if (::write(ready[1], &c, 1) != 1) ::_exit(5);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(3);
    }
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the helper could not arm";
  ::close(ready[0]);
  if (baseName(backend) == "uffd-wp") {
    EXPECT_TRUE(anyMappingHasFlag(w.pid(), "uw"));
  }
  // Half the script runs tracked, the rest after the helper is gone.
  std::vector<std::string> firstHalf(commands.begin(), commands.begin() + commands.size() / 2);
  std::vector<std::string> secondHalf(commands.begin() + commands.size() / 2, commands.end());
  auto answers = runScript(w, firstHalf, nullptr);
  ::kill(helper, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(helper, &status, 0), helper);
  if (baseName(backend) == "uffd-wp") {
    EXPECT_FALSE(anyMappingHasFlag(w.pid(), "uw")) << "the userfaultfd went with its holder";
  }
  auto rest = runScript(w, secondHalf, nullptr);
  answers.insert(answers.end(), rest.begin(), rest.end());
  EXPECT_EQ(answers, reference);
  EXPECT_EQ(w.quit(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, Tracking, ::testing::ValuesIn(kBackends),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace cryo::test
