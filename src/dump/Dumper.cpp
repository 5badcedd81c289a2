// Dumper: takes one checkpoint of a process tree (the process and its descendants): freeze,
// run every collector per process, thaw or kill, and publish the image atomically. Any
// failure leaves every process running as it was.
#include "dump/Dumper.h"

#include <sys/syscall.h>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "common/ProcFs.h"
#include "realtime/RealtimeWindow.h"
#include "dump/CollectorRegistry.h"
#include "verify/KernelView.h"
#include "realtime/FreezeHelper.h"
#include "realtime/CpuHold.h"
#include "realtime/PriorityHold.h"
#include "image/ImageReader.h"
#include "image/ImageWriter.h"
#include "dump/PrecopyCache.h"
#include "dump/ProcessTree.h"
#include "dump/SharedMappings.h"
#include "dump/SharedTables.h"
#include "dump/fds/FileLocks.h"
#include "dump/fds/TreeFdIndex.h"
#include "track/DirtySet.h"

namespace cryo {

namespace {

using Clock = std::chrono::steady_clock;

uint64_t usSince(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}

void fillIdentity(pid_t pid, const ProcStat& st, img::Process& p) {
  p.set_pid(pid);
  p.set_ppid(st.ppid);
  p.set_pgid(st.pgrp);
  p.set_sid(st.session);
  p.set_comm(st.comm);
  std::string cmd = ProcFs::tryReadFile(ProcFs::path(pid, "cmdline")).value_or("");
  std::string arg;
  for (char c : cmd) {
    if (c == '\0') {
      p.add_cmdline(arg);
      arg.clear();
    } else {
      arg += c;
    }
  }
  if (!arg.empty()) p.add_cmdline(arg);
}

// Enough 8 MiB buffers for a process's resident memory (full dumps), within `budgetKb` (what
// is left of a quarter of the memory available); at least kMinCopyBuffers. The budget shrinks
// by what is taken.
size_t copyBufferCount(pid_t pid, const DumpOptions& opts, bool precopied, uint64_t& budgetKb) {
  if (precopied || (opts.selection && !opts.parent.empty())) return kMinCopyBuffers;
  auto field = [](const std::string& text, const std::string& key) -> uint64_t {
    auto p = text.find(key);
    return p == std::string::npos ? 0 : std::strtoull(text.c_str() + p + key.size(), nullptr, 10);
  };
  auto rollup = ProcFs::tryReadFile(ProcFs::path(pid, "smaps_rollup")).value_or("");
  uint64_t rssKb = field(rollup, "\nRss:");
  uint64_t wantKb = std::min(rssKb + rssKb / 16, budgetKb);
  budgetKb -= wantKb;
  return std::max(kMinCopyBuffers, static_cast<size_t>(wantKb / (kCopyBufferBytes / 1024)) + 1);
}

uint64_t copyBudgetKb() {
  auto meminfo = ProcFs::tryReadFile("/proc/meminfo").value_or("");
  auto p = meminfo.find("MemAvailable:");
  uint64_t availKb =
      p == std::string::npos ? 0 : std::strtoull(meminfo.c_str() + p + 13, nullptr, 10);
  return availKb / 4;
}

// The captured mappings whose pages a dump stores (as MemoryCollector picks them).
std::vector<std::pair<uint64_t, uint64_t>> storedRanges(const img::Process& proc) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const img::Vma& v : proc.vmas()) {
    bool anon = v.kind() == img::Vma::ANON || v.kind() == img::Vma::HEAP ||
                v.kind() == img::Vma::STACK;
    if (anon || (v.kind() == img::Vma::FILE && !v.shared())) out.emplace_back(v.start(), v.end());
  }
  return out;
}

}  // namespace

namespace {
// Holds every thread of the frozen tree on cryo's CPUs. A thread or process born during the
// freeze from a thread moved there to stop (inside clone() or fork()) inherited those CPUs:
// it gets its creator's own list back at the release (its creator: a thread of its process
// or of its parent process).
void holdTree(CpuHold& hold, ProcessTree& tree, uint64_t freezeTicks) {
  std::map<pid_t, std::vector<pid_t>> moved;  // process -> its threads moved to stop
  for (ProcessTree::Member& m : tree.members())
    if (m.freezer)
      for (auto& t : m.freezer->threads())
        if (hold.original(t->tid())) moved[m.pid].push_back(t->tid());
  for (ProcessTree::Member& m : tree.members()) {
    if (!m.freezer) continue;
    std::vector<pid_t> creators = moved[m.pid];
    creators.insert(creators.end(), moved[m.stat.ppid].begin(), moved[m.stat.ppid].end());
    for (auto& t : m.freezer->threads()) hold.holdBorn(t->tid(), creators, freezeTicks);
  }
}

// Waits, when it goes out of scope, for a job still running on the freeze's helper thread.
struct AwaitHelper {
  std::future<std::optional<PageRanges>>& f;
  ~AwaitHelper() {
    if (f.valid()) f.wait();
  }
};
}  // namespace

DumpResult Dumper::run(pid_t pid, const std::filesystem::path& dir, const DumpOptions& given) {
  auto start = Clock::now();
  if (pid <= 0 || !ProcFs::exists(pid)) fail("no process with pid {}", pid);
  DumpOptions opts = given;
  if (!opts.parent.empty()) {
    img::Manifest pm = ImageReader::readManifest(opts.parent, nullptr);
    if (pm.root_pid() != pid)
      fail("parent image {} is a checkpoint of pid {}, not of pid {}", opts.parent.string(),
           pm.root_pid(), pid);
    if (!opts.selection) fail("an incremental dump needs a way to find the changed pages");
  }
  if (opts.precopied && !opts.selection)
    fail("pid {}: pre-copied pages need the ranges to copy again while frozen", pid);
  ImageWriter writer(dir);  // checks the destination before the task is touched
  img::Tree tree;
  tree.set_root_pid(pid);
  // smaps walks every page table (milliseconds for a large task): read it now, while the task
  // runs; frozen, only the cheap maps listing is read and matched against it. The same for
  // the children the task has now.
  if (opts.mapsHint.empty()) opts.mapsHint = ProcFs::maps(pid, true);
  if (!opts.fileMappings) opts.fileMappings = FileMappingCache::of(pid, opts.mapsHint);
  std::map<pid_t, std::vector<MapsEntry>> childHints;
  std::map<pid_t, std::shared_ptr<const FileMappingCache>> childFiles;
  // The freeze's helper thread, started now: waiting on the task's CPUs before the freeze
  // (starting it frozen costs a few hundred us), and before the tree is listed (a thread made
  // after the listing counts as a fork: the frozen tree would be listed again).
  // A caller that dumps the same task again keeps it (see DumpOptions::keptHelper).
  std::unique_ptr<FreezeHelper> ownHelper;
  std::unique_ptr<FreezeHelper>& helper = opts.keptHelper ? *opts.keptHelper : ownHelper;
  if (helper && helper->pid() != pid) helper.reset();
  if (helper) helper->place();
  else if (opts.selection) helper = std::make_unique<FreezeHelper>(pid);
  ProcessTree::Listing expected = ProcessTree::list(pid);
  for (pid_t c : expected.pids) {
    try {
      childHints[c] = ProcFs::maps(c, true);
      childFiles[c] = FileMappingCache::of(c, childHints[c]);
    } catch (const Error&) {
      // exited meanwhile, or a zombie: the frozen listing decides
    }
  }

  // Copy buffers, faulted in before the freeze (that is not the task's time): room for all of a
  // full checkpoint's pages when memory allows, so the task runs again once they are copied.
  DumpResult res;
  // One pool per process, so that every process's pages wait in memory until the tree runs
  // again (a pool that fills up has its pages stored at once, while frozen).
  uint64_t budgetKb = copyBudgetKb();
  std::map<pid_t, std::unique_ptr<BufferPool>> ownPools;
  std::map<pid_t, std::unique_ptr<BufferPool>>& pools = opts.keptPools ? *opts.keptPools : ownPools;
  auto ensurePool = [&](pid_t p, bool precopied) {
    size_t want = copyBufferCount(p, opts, precopied, budgetKb);
    std::unique_ptr<BufferPool>& pool = pools[p];
    if (!pool || pool->count() < want) pool = std::make_unique<BufferPool>(want, kCopyBufferBytes);
  };
  ensurePool(pid, opts.precopied != nullptr);
  for (const auto& [c, hint] : childHints) ensurePool(c, opts.childPrecopied.count(c) != 0);
  std::vector<std::unique_ptr<PageReader>> pendingPages;
  // Stores the pages of every process copied so far (before another storer may start).
  // A reader storing already (its pool filled up) is finished first: the others start their
  // storers in finish(), and the page store takes one writer at a time.
  auto storePending = [&] {
    std::stable_partition(pendingPages.begin(), pendingPages.end(),
                          [](const auto& r) { return r->storing(); });
    for (auto& r : pendingPages) {
      r->finish();
      res.finalPages += r->pagesCopied();
    }
    pendingPages.clear();
  };
  // Processes whose pages were partly copied while they ran: (index in the tree, the copies,
  // the ranges the final freeze copied again).
  struct Precopied {
    int index;
    const PrecopyCache* cache;
    PageRanges frozenCopied;
  };
  std::vector<Precopied> precopiedOf;
  // The last round and the freeze at the real-time priority asked for: nothing of the
  // system's ordinary work (writeback, other daemons) preempts them on cryo's CPU.
  std::optional<RealtimeWindow> realtime(std::in_place,
                                         RealtimeWindow::forTask(pid, opts.freezePriority));
  const int priority = RealtimeWindow::current();  // what the freeze runs at, as recorded
  if (opts.beforeFreeze) opts.beforeFreeze(opts);
  // The main process's written pages, found on the helper from the moment its threads are
  // held (see PageSelection::earlyChanged), while the rest of the tree is frozen.
  std::future<std::optional<PageRanges>> early;
  AwaitHelper awaitEarly{early};  // an exception must not leave the helper using the selection
  // With CPUs of its own (and no real-time priority, at which its polling would keep the
  // threads from running), cryo runs the frozen threads there: their injected calls then run
  // beside the tracer thread, without waking another CPU, and the helper has the task's CPUs
  // to itself. A thread slow to stop (waiting for its CPU, which a kernel thread or another
  // task holds) is moved there at once, where it stops without waiting for its own CPU.
  std::optional<CpuHold> stopHold;
  if (helper && priority == 0)
    if (auto cpus = CpuHold::disjointCpus(pid)) stopHold.emplace(std::vector<pid_t>{}, *cpus);
  size_t movedToStop = 0;
  Tracee::SlowToStop slowToStop;
  uint64_t freezeTicks = stopHold ? CpuHold::ticksNow() : 0;
  if (stopHold)
    slowToStop = [&](pid_t tid) {
      stopHold->hold(tid);
      ++movedToStop;
    };
  ProcessTree frozen(
      pid, expected,
      [&] {
        if (helper && opts.selection)
          if (auto job = opts.selection->earlyChanged()) early = helper->run(std::move(job));
      },
      slowToStop);
  // Released before the thaw (and, declared after `frozen`, before any detach).
  std::optional<CpuHold> cpuHold;
  if (stopHold) {
    cpuHold.emplace(std::move(*stopHold));
    holdTree(*cpuHold, frozen, freezeTicks);
  }
  // At real-time priority (which cryo takes only on CPUs of its own), the frozen threads run
  // their injected calls at that priority too, on their own CPUs: nothing else that wants those
  // CPUs delays them. Only once stopped: a thread raised on its way to the stop (inside fork(),
  // say) would pass the priority on to a child that the freeze never gives back.
  std::unique_ptr<PriorityHold> raise;
  if (priority > 0) {
    raise = std::make_unique<PriorityHold>(priority);
    for (ProcessTree::Member& m : frozen.members())
      if (m.freezer)
        for (auto& t : m.freezer->threads()) raise->hold(t->tid());
  }
  auto frozenAt = frozen.frozenAt();
  auto sinceFreeze = [&] { return usSince(frozenAt); };
  std::string phases = fmt::format("seize {}", sinceFreeze());
  if (cpuHold)
    phases += fmt::format(" ({} threads held on cryo's CPUs, {} moved there to stop)",
                          cpuHold->moved(), movedToStop);
  if (raise) phases += fmt::format(" ({} threads at SCHED_FIFO {})", raise->raised(), priority);
  FaultPoint::hit("dump-after-freeze");
  // Where the frozen time goes, logged once the task runs again (`-v`).
  auto phase = [&](std::string_view what, Clock::time_point since) {
    phases += fmt::format(", {} {}", what, usSince(since));
  };
  // The tree's fd index is made once the written pages are being found (below): it is not
  // needed before the collectors, and the scan beside it then starts sooner.
  std::optional<TreeFdIndex> fdIndex;
  SharedMappings shared;
  std::map<pid_t, SharedTables::Sharing> sharing = SharedTables::find(frozen);
  for (ProcessTree::Member& member : frozen.members()) {
    img::Process& proc = *tree.add_processes();
    fillIdentity(member.pid, member.stat, proc);
    if (member.zombie()) {
      proc.set_zombie(true);
      proc.set_exit_status(member.stat.exitCode);
      continue;
    }
    // A reader whose pool filled up is storing already: it must be done before another
    // process's copy may start storing (the page store takes one writer at a time). After
    // the last process, it finishes once the tree runs again.
    if (std::any_of(pendingPages.begin(), pendingPages.end(),
                    [](const auto& r) { return r->storing(); }))
      storePending();
    // The root takes the caller's options; a child is dumped in full detail of its own.
    DumpOptions own = opts;
    if (member.pid != pid) {
      own.mapsHint = childHints[member.pid];
      own.fileMappings = childFiles[member.pid];
      own.keptArea = nullptr;
      auto pc = opts.childPrecopied.find(member.pid);
      own.precopied = pc == opts.childPrecopied.end() ? nullptr : pc->second;
    }
    auto t = Clock::now();
    std::unique_ptr<BufferPool>& pool = pools[member.pid];
    if (!pool) pool = std::make_unique<BufferPool>(kMinCopyBuffers, kCopyBufferBytes);  // new since the listing
    DumpContext ctx(*member.freezer, writer.pages(), *pool, own);
    ctx.setFrozenStat(member.stat);
    ctx.setSharedMappings(&shared);
    if (cpuHold) ctx.setCpuHold(&*cpuHold);
    ctx.setPriorityHold(raise.get());
    phase("maps", t);
    // The changed pages are found on a helper thread while this one collects the state that
    // needs ptrace, when the selection allows it (no injection); else here, first.
    std::future<std::optional<PageRanges>> changing;
    AwaitHelper awaitHelper{changing};  // a failing collector must not leave the helper using `ctx`
    bool earlyUsed = false;
    if (opts.selection && early.valid() && member.pid == pid) {
      t = Clock::now();
      if (opts.selection->earlyStands(ctx)) {
        changing = std::move(early);
        earlyUsed = true;
        phase("settle (early scan)", t);
      } else {
        helper->help();
        opts.selection->keepEarly(early.get());  // (its exception, as thrown)
        phase("settle, early-scan-wait", t);
      }
    }
    if (opts.selection && !earlyUsed) {
      t = Clock::now();
      if (opts.selection->prepareConcurrent(ctx)) {
        if (!helper) helper = std::make_unique<FreezeHelper>(member.pid);
        changing = helper->run([&ctx, sel = opts.selection] {
          return sel->changedRanges(ctx);
        });
        phase("settle", t);
      } else {
        ctx.setChangedRanges(opts.selection->changedRanges(ctx));
        phase("changed-pages", t);
      }
    }
    if (!fdIndex) {
      t = Clock::now();
      fdIndex.emplace(frozen.livePids());
      phase("fd-index", t);
    }
    ctx.setFdIndex(&*fdIndex);
    // The memory collector asks for the written pages once it has described the mappings;
    // meanwhile this thread takes part in the scan (the helper shares its loop).
    uint64_t waitedUs = 0;
    if (changing.valid())
      ctx.setChangedRangesSource([&]() -> std::optional<PageRanges> {
        auto w = Clock::now();
        helper->help();
        std::optional<PageRanges> r = changing.get();  // (the helper's exception, as thrown)
        waitedUs = usSince(w);
        phase("changed-pages-wait", w);
        // An early collect that would have needed an injection: made here, on this thread.
        if (earlyUsed && !r) {
          w = Clock::now();
          r = opts.selection->changedRanges(ctx);
          phase("changed-pages", w);
        }
        return r;
      });
    ctx.setHelper(helper.get());  // the page copy is shared with it
    for (auto& c : CollectorRegistry::all()) {
      try {
        t = Clock::now();
        waitedUs = 0;
        c->collect(ctx, proc);
        uint64_t us = usSince(t) - waitedUs;  // (the wait is logged on its own)
        if (c->name() == std::string_view("memory")) res.frozenCopyUs += us;
        phases += fmt::format(", {} {}", c->name(), us);
      } catch (const Error& e) {
        throw Error(fmt::format("dump of pid {} failed ({} state): {}", member.pid, c->name(),
                                e.what()));
      }
    }
    proc.set_full_pages(!ctx.changedRanges().has_value());
    FaultPoint::hit("dump-after-memory");
    t = Clock::now();
    if (opts.selection) opts.selection->captured(ctx);
    if (auto r = ctx.takePendingPages()) pendingPages.push_back(std::move(r));
    if (own.precopied && ctx.changedRanges())
      precopiedOf.push_back({tree.processes_size() - 1, own.precopied, *ctx.changedRanges()});
    ctx.finish();
    phase("finish", t);
  }
  // (here, with the mappings as dumped: see FileLocks::refuseHeldByMappings)
  if (fdIndex) FileLocks::refuseHeldByMappings(fdIndex->tables(), tree);
  SharedTables::record(sharing, tree);
  SharedTables::checkLocks(tree);
  img::Manifest manifest;
  if (opts.leaveRunning) {
    auto t = Clock::now();
    if (cpuHold) cpuHold->release();
    if (raise) raise->release();
    frozen.thaw();
    res.stopUs = usSince(frozenAt);
    phase("thaw", t);
    realtime.reset();
    spdlog::debug("pid {}: frozen {} us ({} processes): {}", pid, res.stopUs,
                  frozen.members().size(), phases);
  }
  realtime.reset();  // (killed tasks: the pages are stored at the ordinary priority)
  auto pendingStart = Clock::now();
  bool pending = !pendingPages.empty();
  storePending();
  if (pending)
    spdlog::debug("pid {}: pages copied frozen stored in {} us", pid, usSince(pendingStart));
  for (const Precopied& pc : precopiedOf) {
    // Every page copied while the task ran that the final freeze did not copy again is the
    // page as it was at the freeze: the tracker reported no write to it since its copy.
    img::Process& p = *tree.mutable_processes(pc.index);
    auto storeStart = Clock::now();
    DirtySet frozenCopied;
    for (const auto& [s, e] : pc.frozenCopied) frozenCopied.add(s, e);
    // Mapping by mapping: a run never spans two mappings.
    auto& runs = *p.mutable_pages();
    uint64_t n = 0;
    for (const auto& [s, e] : storedRanges(p))
      n += pc.cache->store(writer.pages(), DirtySet{{s, e}}.subtract(frozenCopied), runs);
    std::sort(runs.begin(), runs.end(),
              [](const img::PageRun& a, const img::PageRun& b) { return a.vaddr() < b.vaddr(); });
    spdlog::debug("pid {}: {} pre-copied pages stored in {} us", p.pid(), n, usSince(storeStart));
  }
  uint64_t pages = 0;
  for (const auto& p : tree.processes())
    for (const auto& r : p.pages())
      if (r.kind() == img::PageRun::DATA) pages += r.nr_pages();
  if (!opts.parent.empty()) {
    uint64_t sum = 0;
    img::Manifest pm = ImageReader::readManifest(opts.parent, &sum);
    img::ParentRef* ref = manifest.mutable_parent();
    ref->set_image_id(pm.image_id());
    ref->set_manifest_checksum(sum);
    ref->set_path(std::filesystem::relative(std::filesystem::absolute(opts.parent),
                                            std::filesystem::absolute(dir))
                      .string());
  }
  manifest.set_tracker(opts.trackerName);
  manifest.set_cryo_version(CRYO_VERSION);
  manifest.set_arch(CRYO_ARCH);
  utsname u{};
  ::uname(&u);
  manifest.set_kernel_release(u.release);
  manifest.set_hostname(u.nodename);
  manifest.set_root_pid(pid);
  manifest.set_pages_stored(pages);
  if (!opts.leaveRunning) res.stopUs = usSince(frozenAt);
  res.freezeUs = res.stopUs + opts.earlierFreezeUs;
  res.maxStopUs = res.stopUs;  // an arming stop is far shorter; the caller may raise it
  res.copyUs = res.frozenCopyUs + opts.precopyCopyUs;
  res.precopyRounds = opts.precopyRounds;
  res.overBudget = opts.maxFreezeUs && res.stopUs > opts.maxFreezeUs;
  manifest.set_freeze_us(res.freezeUs);
  manifest.set_copy_us(res.copyUs);
  manifest.set_mode(opts.mode);
  manifest.set_precopy_rounds(opts.precopyRounds);
  manifest.set_precopy_pages(opts.precopyPages);
  manifest.set_final_pages(res.finalPages);
  manifest.set_max_freeze_us(opts.maxFreezeUs);
  manifest.set_stops(opts.earlierStops + 1);
  manifest.set_freeze_priority(static_cast<uint32_t>(priority));
  if (opts.recordView) manifest.set_kernel_view_version(KernelView::kVersion);
  if (opts.maxStopUsEarlier > res.maxStopUs) res.maxStopUs = opts.maxStopUsEarlier;
  if (opts.maxFreezeUs && res.maxStopUs > opts.maxFreezeUs) res.overBudget = true;
  manifest.set_max_stop_us(res.maxStopUs);
  manifest.set_over_budget(res.overBudget);
  manifest.set_dump_us(usSince(opts.startedAt.value_or(start)));
  FaultPoint::hit("dump-before-commit");
  auto commitStart = Clock::now();
  writer.commit(tree, manifest);
  spdlog::debug("pid {}: image committed (fsync, rename) in {} us", pid, usSince(commitStart));
  if (!opts.leaveRunning) frozen.kill();
  if (opts.keptPools) {
    // Kept for the next dump: the pools of the processes still in the tree, at their small
    // size (a full dump's pool for all of a process's memory is given back).
    std::set<pid_t> live;
    for (pid_t p : frozen.livePids()) live.insert(p);
    std::erase_if(*opts.keptPools, [&](const auto& kv) {
      return !live.count(kv.first) || !kv.second || kv.second->count() > kMinCopyBuffers;
    });
  }
  res.totalUs = usSince(opts.startedAt.value_or(start));
  res.pages = pages;
  res.bytes = writer.pages().bytes();
  return res;
}

}  // namespace cryo
