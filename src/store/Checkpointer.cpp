// Checkpointer: takes the checkpoints of one running task into a store: a full one first, then
// incremental ones holding only the pages written since the previous checkpoint, copied either
// while the task is frozen (stop) or while it runs (precopy, bounded freeze).
#include "store/Checkpointer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "realtime/CpuVisit.h"
#include "common/Error.h"
#include "common/ProcFs.h"
#include "realtime/RealtimeWindow.h"
#include "realtime/FreezeHelper.h"
#include "dump/PageSelection.h"
#include "dump/PrecopyCache.h"
#include "dump/ProcessTree.h"
#include "image/ImageFormat.h"
#include "image/ImageReader.h"
#include "inject/ProcessFreezer.h"
#include "track/DirtyTracker.h"
#include "track/DumpTarget.h"
#include "track/LiveTarget.h"
#include "track/MappingPolicy.h"
#include "track/Pagemap.h"
#include "track/ParentDiffSelection.h"
#include "track/TrackerFactory.h"

namespace cryo {

// A precopy round that could not follow the task (the checkpoint starts over as a full one).
class Checkpointer::PrecopyInterrupted : public Error {
 public:
  using Error::Error;
};

namespace {

using Clock = std::chrono::steady_clock;
uint64_t usSince(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}

// Folds `sample` into the running average `avg` (0: none yet).
void smooth(double& avg, double sample) { avg = avg == 0 ? sample : 0.7 * avg + 0.3 * sample; }

// A freeze's forecast copy time, for the log (UINT64_MAX: more than its buffers hold).
std::string forecastText(uint64_t us) {
  return us == UINT64_MAX ? std::string("more than its buffers hold") : fmt::format("about {} us", us);
}

// The private anonymous mappings of a listing.
DirtySet privateAnonymous(const std::vector<MapsEntry>& maps) {
  DirtySet out;
  for (const MapsEntry& m : maps)
    if (MappingPolicy::classify(m) == MappingKind::kPrivateAnon) out.add(m.start, m.end);
  return out;
}

// Pages that hold data in the mappings a tracker follows (a full checkpoint's first round).
DirtySet pagesHoldingData(pid_t pid, const std::vector<MapsEntry>& maps) {
  Pagemap pm(pid);
  DirtySet out;
  for (const MapsEntry& m : maps) {
    MappingKind kind = MappingPolicy::classify(m);
    if (kind != MappingKind::kPrivateAnon && kind != MappingKind::kPrivateFile) continue;
    Pagemap::Query q;
    q.categoryAnyOf = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
    q.categoryMask = q.categoryInverted =
        kind == MappingKind::kPrivateAnon ? PAGE_IS_PFNZERO : PAGE_IS_FILE;
    q.returnMask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
    // A mapping that changed under the walk is left to the final freeze.
    pm.scan(m.start, m.end, q, [&](uint64_t s, uint64_t e, uint64_t) { out.add(s, e); });
  }
  return out;
}

// Mappings whose pages a dump stores although no tracker follows them (private file mappings
// that can never be written, whose only private copies come from ptrace): a full precopy
// checkpoint copies them while frozen (they hold next to nothing).
DirtySet storedUntracked(const std::vector<MapsEntry>& maps) {
  DirtySet out;
  for (const MapsEntry& m : maps)
    if (!m.shared && !m.path.empty() && m.path[0] != '[' &&
        MappingPolicy::classify(m) == MappingKind::kUntracked)
      out.add(m.start, m.end);
  return out;
}

}  // namespace

FreezeMode CheckpointPolicy::parseMode(const std::string& name) {
  if (name == "stop") return FreezeMode::kStop;
  if (name == "precopy") return FreezeMode::kPrecopy;
  fail("unknown freeze mode '{}' (stop or precopy)", name);
}

const char* CheckpointPolicy::modeName(FreezeMode m) {
  return m == FreezeMode::kPrecopy ? "precopy" : "stop";
}

// Feeds the tracker's answers into a dump (while the task is frozen). The task's children each
// have a tracker of their own, made when the child is first dumped (in full); pre-copy rounds
// follow the task's main process only, its children are copied in the final freeze.
class Checkpointer::Selection : public PageSelection {
 public:
  Selection(Checkpointer& cp, bool incremental)
      : cp_(cp), incremental_(incremental), childIncremental_(incremental) {}
  // Precopy: the final freeze copies what the tracker reports, what the rounds failed to copy,
  // and, for a full checkpoint, the stored mappings no tracker follows.
  Selection(Checkpointer& cp, const PrecopyCache& cache, bool full)
      : cp_(cp), incremental_(true), childIncremental_(!full), cache_(&cache), full_(full) {}

  // The task's main process: its tracker's collect overlaps the rest of the freeze when it
  // needs no injection (a child's: kept in line, it is rarely the bulk).
  bool prepareConcurrent(DumpContext& ctx) override {
    if (ctx.pid() != cp_.pid_ || !incremental_) return false;
    bool concurrent = cp_.tracker_->settleForCollect(ctx);
    settled_ = true;
    return concurrent;
  }

  std::optional<PageRanges> changedRanges(DumpContext& ctx) override {
    if (ctx.pid() != cp_.pid_) return childChanged(ctx);
    if (!incremental_) return std::nullopt;
    // Precopy: the next checkpoint's rounds re-arm what the final collect reports.
    bool settled = std::exchange(settled_, false);
    PageRanges r = settled ? cp_.tracker_->changedSettled(ctx, cache_ != nullptr)
                           : cp_.tracker_->changed(ctx, cache_ != nullptr);
    if (!cache_) return r;
    DirtySet all;
    for (const auto& [s, e] : r) all.add(s, e);
    // What an early collect that did not stand reported is written since the parent too (the
    // collect just made reports only what came after it).
    if (std::optional<PageRanges> early = std::exchange(early_, std::nullopt))
      for (const auto& [s, e] : *early) all.add(s, e);
    return completed(std::move(all), ctx.maps()).pageRanges();
  }

  // Precopy, the main process: the final collect reads only (re-arming is left to the next
  // checkpoint's rounds), so it can start as soon as the task is frozen, over the listing the
  // last round took just before the freeze, and a result that does not stand is still part of
  // the answer.
  std::function<std::optional<PageRanges>()> earlyChanged() override {
    if (!cache_ || !incremental_ || cp_.lastMaps_.empty()) return {};
    return [this]() -> std::optional<PageRanges> {
      LiveTarget target(cp_.pid_, LiveTarget::AsListed{}, cp_.lastMaps_, areaRange());
      if (!cp_.tracker_->collectsWithoutInjection(target)) return std::nullopt;
      return completed(cp_.tracker_->collect(target, true), target.maps()).pageRanges();
    };
  }
  // It stands if settling wrote nothing and the frozen listing is the one it scanned.
  bool earlyStands(DumpContext& ctx) override {
    DumpTarget target(ctx);
    target.settleThreads();
    settled_ = true;
    if (ctx.settleDeliveredSignal()) return false;
    auto [a, b] = areaRange();
    std::vector<MapsEntry> scanned;
    for (const MapsEntry& m : cp_.lastMaps_)
      if (!(m.start >= a && m.end <= b)) scanned.push_back(m);
    return scanned == ctx.maps();
  }
  void keepEarly(std::optional<PageRanges> early) override { early_ = std::move(early); }
  void captured(DumpContext& ctx) override {
    if (ctx.pid() != cp_.pid_) {
      ChildTracker& c = cp_.children_.at(ctx.pid());
      if (c.tracker->armed())
        c.tracker->trackNew(ctx);
      else
        c.tracker->arm(ctx);
      return;
    }
    if (cache_) return;  // the final collect re-armed the tracker
    if (incremental_)
      cp_.tracker_->trackNew(ctx);
    else
      cp_.tracker_->arm(ctx);
  }

 private:
  std::optional<PageRanges> childChanged(DumpContext& ctx) {
    uint64_t start = ProcFs::stat(ctx.pid()).startTime;
    ChildTracker& c = cp_.children_[ctx.pid()];
    c.seen = true;
    bool known = c.tracker && c.startTime == start && c.tracker->armed();
    // Incremental, or pre-copied since this checkpoint armed it: what the tracker reports,
    // and what the rounds could not copy (for a full one, the mappings no tracker follows).
    if (known && (childIncremental_ || (cache_ && c.cache))) {
      PageRanges r = c.tracker->changed(ctx, cache_ && c.cache);
      if (!cache_ || !c.cache) return r;
      DirtySet all;
      for (const auto& [s, e] : r) all.add(s, e);
      all.add(c.cache->missed());
      if (full_) all.add(storedUntracked(ctx.maps()));
      return all.pageRanges();
    }
    // (A cache of an earlier process with this pid stays allocated but unused: the dump may
    // hold a pointer to it.)
    // New since the last checkpoint (or that one was full): all of it, tracked from now on.
    c.startTime = start;
    c.tracker = TrackerFactory::create(cp_.trackerName_);
    return std::nullopt;
  }

  Checkpointer& cp_;
  bool incremental_;
  bool childIncremental_;  // a child's image may point to its parent checkpoint
  const PrecopyCache* cache_ = nullptr;
  bool full_ = false;
  bool settled_ = false;  // prepareConcurrent settled the threads for the next changedRanges
  std::optional<PageRanges> early_;  // an early collect's result that did not stand

  std::pair<uint64_t, uint64_t> areaRange() const {
    return {cp_.area_.addr, cp_.area_.addr + cp_.area_.size};
  }
  // The tracker's answer for the main process with what the rounds could not copy and, for a
  // full checkpoint, the stored mappings no tracker follows.
  DirtySet completed(DirtySet tracked, const std::vector<MapsEntry>& maps) const {
    tracked.add(cache_->missed());
    if (full_) tracked.add(storedUntracked(maps));
    return tracked;
  }
};

namespace {
void checkPolicy(const DirtyTracker* tracker, const CheckpointPolicy& policy) {
  if (policy.mode == FreezeMode::kPrecopy && (!tracker || !tracker->collectsWhileRunning()))
    fail("--freeze-mode precopy copies pages while the task runs and needs a tracker that "
         "collects written pages atomically while it runs (uffd-wp); the {} tracker cannot",
         tracker ? std::string(tracker->name()) : std::string("none"));
}
}  // namespace

void Checkpointer::validate(const std::string& trackerName, const CheckpointPolicy& policy) {
  auto t = TrackerFactory::create(trackerName);
  checkPolicy(t.get(), policy);
}

Checkpointer::Checkpointer(CheckpointStore& store, pid_t pid, const std::string& trackerName,
                           CheckpointPolicy policy)
    : store_(&store), pid_(pid), policy_(policy) {
  tracker_ = TrackerFactory::create(trackerName);
  trackerName_ = tracker_ ? std::string(tracker_->name()) : "none";
  checkPolicy(tracker_.get(), policy_);
}

Checkpointer::Checkpointer(pid_t pid, const std::filesystem::path& dir, CheckpointPolicy policy,
                           bool leaveRunning)
    : oneShotDir_(dir), leaveRunning_(leaveRunning), pid_(pid), policy_(policy) {
  tracker_ = TrackerFactory::create("uffd-wp");
  trackerName_ = tracker_->name();
  checkPolicy(tracker_.get(), policy_);
}

std::filesystem::path Checkpointer::nextDir() const {
  return store_ ? store_->nextPath() : oneShotDir_;
}

Checkpointer::~Checkpointer() = default;

CheckpointInfo Checkpointer::checkpoint() {
  if (policy_.mode == FreezeMode::kStop) return stopAndCopy();

  bool incremental = armed_ && tracker_->armed() && std::filesystem::exists(parent_);
  // A failed checkpoint may have consumed the tracker's record of writes: the next one is full.
  armed_ = false;
  CheckpointInfo info;
  try {
    info = precopy(incremental);
  } catch (const PrecopyInterrupted& e) {
    // A round could not follow the task (e.g. it replaced its address space): start over
    // with a full checkpoint, tracking armed anew.
    spdlog::info("pid {}: {}; taking a full checkpoint instead", pid_, e.what());
    info = precopy(false);
  }
  armed_ = true;
  return info;
}

CheckpointInfo Checkpointer::stopAndCopy() {
  CheckpointInfo info;
  std::filesystem::path dir = nextDir();
  DumpOptions o;
  o.leaveRunning = true;
  o.keptArea = keptArea();
  o.maxFreezeUs = static_cast<uint64_t>(policy_.maxFreeze.count());
  o.freezePriority = policy_.freezePriority;
  o.tcpClose = policy_.tcpClose;
  o.recordView = policy_.recordView;
  info.incremental = tracker_ && armed_ && std::filesystem::exists(parent_);
  std::unique_ptr<Selection> sel;
  if (tracker_) {
    sel = std::make_unique<Selection>(*this, info.incremental);
    o.selection = sel.get();
    if (info.incremental) o.parent = parent_;
    o.trackerName = trackerName_;
  }
  armed_ = false;
  for (auto& [pid, c] : children_) c.seen = false;
  info.dump = Dumper::run(pid_, dir, o);
  info.id = dir.filename().string();
  parent_ = dir;
  armed_ = tracker_ != nullptr;
  // Children that were not in this checkpoint are gone: so are their trackers.
  std::erase_if(children_, [](const auto& kv) { return !kv.second.seen; });
  return info;
}

uint64_t Checkpointer::armStop(const std::vector<MapsEntry>& hint) {
  DumpOptions o;
  o.mapsHint = hint;
  o.keptArea = keptArea();
  RealtimeWindow realtime(RealtimeWindow::forTask(pid_, policy_.freezePriority));
  ProcessFreezer freezer(pid_);
  auto frozenAt = freezer.frozenAt();
  {
    DumpContext ctx(freezer, o);
    tracker_->arm(ctx);
    ctx.finish();
  }
  freezer.thaw();
  uint64_t stop = usSince(frozenAt);
  rate_.restart(frozenAt);  // the writes tracked from here on
  // Every child gets a tracker of its own, armed in a short stop of that child alone (what a
  // child writes from then on is copied again before or in the final freeze).
  children_.clear();
  for (pid_t c : ProcessTree::descendants(pid_)) {
    try {
      ProcStat st = ProcFs::stat(c);
      if (st.state == 'Z' || st.state == 'X') continue;
      ChildTracker ct;
      ct.startTime = st.startTime;
      ct.tracker = TrackerFactory::create(trackerName_);
      ct.cache = std::make_unique<PrecopyCache>(c);
      ProcessFreezer f(c);
      auto at = f.frozenAt();
      {
        DumpContext ctx(f, DumpOptions{});
        ct.tracker->arm(ctx);
        ctx.finish();
      }
      f.thaw();
      stop = std::max(stop, usSince(at));
      children_[c] = std::move(ct);
    } catch (const Error& e) {
      // Gone meanwhile, or not to be followed: the final freeze copies all of it.
      spdlog::debug("pid {}: child {} not armed for pre-copying: {}", pid_, c, e.what());
    }
  }
  return stop;
}

bool Checkpointer::waitBurstOut(uint64_t freezeCopyUs, Clock::time_point roundsStarted,
                                std::chrono::milliseconds patience) const {
  if (Clock::now() - roundsStarted >= patience) return false;
  if (policy_.maxFreeze.count() == 0)
    return freezeCopyUs > static_cast<uint64_t>(policy_.longFreeze.count());
  // Within a budget, the copy has what the rest of the freeze leaves of it (as last measured).
  // A budget the rest alone exceeds is not met by any number of rounds.
  double room = static_cast<double>(policy_.maxFreeze.count()) - fixedStopUs_;
  return room > 0 && static_cast<double>(freezeCopyUs) > room;
}

uint64_t Checkpointer::freezeCopyForecastUs() const {
  // What the task writes from the last collect to the freeze, at its recent rate.
  uint64_t pages = rate_.forecast(Clock::now());
  // More than half the freeze's copy buffers (the parts' last batches may take the rest) would
  // be stored while the task is frozen, a page at a time far slower than a copy: long.
  size_t buffers = kMinCopyBuffers;
  if (auto it = pools_.find(pid_); it != pools_.end() && it->second) buffers = it->second->count();
  if (pages > buffers * kCopyBufferBytes / 2 / image::kPageSize) return UINT64_MAX;
  // Copied at the slower of the rounds' pace and the last freezes' (a freeze also reads each
  // run's page table entries). 1 us a page before either is measured.
  double usPerPage = std::max(copyUsPerPage_, frozenUsPerPage_);
  if (usPerPage == 0) usPerPage = 1.0;
  return static_cast<uint64_t>(static_cast<double>(pages) * usPerPage);
}

uint64_t Checkpointer::lastRoundCopyForecastUs() const {
  double pages = static_cast<double>(rate_.forecast(Clock::now())) + rate_.pagesPerUs() * prepUs_;
  return static_cast<uint64_t>(pages * (copyUsPerPage_ == 0 ? 1.0 : copyUsPerPage_));
}

uint64_t Checkpointer::finalPagesTarget(double usPerPage) const {
  if (policy_.maxFreeze.count() == 0) return 64;  // no budget: go on while it pays
  double room = static_cast<double>(policy_.maxFreeze.count()) - fixedStopUs_;
  if (room <= 0 || usPerPage <= 0) return 0;
  return static_cast<uint64_t>(room / usPerPage);
}

CheckpointInfo Checkpointer::precopy(bool incremental) {
  auto started = Clock::now();
  CheckpointInfo info;
  info.incremental = incremental;
  std::filesystem::path dir = nextDir();
  if (!cache_) cache_ = std::make_unique<PrecopyCache>(pid_);
  PrecopyCache& cache = *cache_;
  cache.clear();
  for (auto& [pid, c] : children_)
    if (c.cache) c.cache->clear();
  DumpOptions o;
  o.leaveRunning = leaveRunning_;
  o.keptArea = keptArea();
  o.mode = "precopy";
  o.trackerName = trackerName_;
  o.maxFreezeUs = static_cast<uint64_t>(policy_.maxFreeze.count());
  o.freezePriority = policy_.freezePriority;
  o.tcpClose = policy_.tcpClose;
  o.recordView = policy_.recordView;
  o.startedAt = started;
  if (!incremental) {
    // Stop briefly to start tracking writes, then copy all memory while the task runs.
    LiveTarget before(pid_, {}, {area_.addr, area_.addr + area_.size});
    uint64_t stop = armStop(before.allMaps());
    o.earlierFreezeUs = o.maxStopUsEarlier = stop;
    o.earlierStops = 1;
    auto t = Clock::now();
    LiveTarget now(pid_, {}, {area_.addr, area_.addr + area_.size});
    uint64_t n = cache.copy(pagesHoldingData(pid_, now.maps()));
    for (auto& [c, ct] : children_) {
      try {
        LiveTarget child(c);
        n += ct.cache->copy(pagesHoldingData(c, child.maps()));
      } catch (const Error& e) {
        spdlog::debug("pid {}: child {} left pre-copying: {}", pid_, c, e.what());
        ct.tracker.reset();
      }
    }
    o.precopyCopyUs += usSince(t);
    o.precopyPages += n;
    spdlog::debug("pid {}: armed in a {} us stop; {} pages copied while running in {} us", pid_,
                  stop, n, usSince(t));
  }
  // Rounds: each copies what was written during the previous one, until what is left is
  // small enough for the final freeze (or stops shrinking).
  uint64_t prev = UINT64_MAX;
  auto roundsStarted = Clock::now();
  auto patience = policy_.patience;
  for (int round = 1;; ++round) {
    auto t = Clock::now();
    uint64_t collectUs = 0;
    uint64_t n = precopyRound(o, round, collectUs);
    uint64_t us = usSince(t);
    double usPerPage = n ? static_cast<double>(us) / static_cast<double>(n) : 0.25;
    uint64_t forecastUs = freezeCopyForecastUs();
    uint64_t lastRoundUs = lastRoundCopyForecastUs();
    spdlog::debug("pid {}: precopy round {}: {} pages in {} us (collect {} us); {:.3f} pages/us "
                  "written lately, a freeze now would copy {}, the last round about {} us",
                  pid_, round, n, us, collectUs, rate_.pagesPerUs(), forecastText(forecastUs),
                  lastRoundUs);
    // A burst of writes (what the task has written lately would take long to copy frozen)
    // is waited out with more rounds, within the patience, whatever this round found: one
    // that found few pages (it was short, or the task was off its CPU) does not end it.
    if (waitBurstOut(forecastUs, roundsStarted, patience)) {
      prev = n;
      continue;
    }
    if (n <= finalPagesTarget(usPerPage)) break;
    // Enough rounds once copying a round's pages takes no longer than its scan: what the
    // task writes meanwhile, left for the last round before the freeze, then depends on the
    // scan alone, and every further round would only re-protect pages again (each costs the
    // running task a fault per page written and a TLB flush per page table). It is enough,
    // too, once the last round (after the dump's preparations, just before the freeze) would
    // copy for less than half this round's scan: that round is short, and what the freeze
    // copies depends on it alone.
    bool scanBound = us - collectUs <= collectUs || lastRoundUs * 2 <= collectUs;
    bool stalled = round >= policy_.maxRounds ||
                   (round >= 3 && n * 10 > prev * 8);  // not shrinking: writes outpace the copy
    prev = n;
    if (scanBound || stalled) break;
  }
  // The dump's preparations (the image directory, the listings, its buffers) take a while,
  // and the task writes on meanwhile: one last round, once they are done and immediately
  // before the freeze, copies that too.
  // If much was written meanwhile (a burst), more rounds follow, within the patience left.
  auto roundsEnded = Clock::now();
  o.beforeFreeze = [this, roundsStarted, roundsEnded, patience](DumpOptions& d) {
    auto t = Clock::now();
    smooth(prepUs_, static_cast<double>(
                        std::chrono::duration_cast<std::chrono::microseconds>(t - roundsEnded)
                            .count()));
    uint64_t collectUs = 0;
    uint64_t n = precopyRound(d, static_cast<int>(d.precopyRounds) + 1, collectUs);
    uint64_t forecastUs = freezeCopyForecastUs();
    while (waitBurstOut(forecastUs, roundsStarted, patience)) {
      spdlog::debug("pid {}: {} pages written while the dump prepared, a freeze now would copy "
                    "{}: one more round",
                    pid_, n, forecastText(forecastUs));
      t = Clock::now();
      n = precopyRound(d, static_cast<int>(d.precopyRounds) + 1, collectUs);
      forecastUs = freezeCopyForecastUs();
    }
    // The final collect sees mappings as the last round left them: the rounds' registrations
    // must show in the VmFlags the freeze reuses (read again only if the round made some).
    if (d.mapsHint.empty()) d.mapsHint = lastMaps_ = ProcFs::maps(pid_, true);
    spdlog::debug("pid {}: last precopy round, before the freeze: {} pages in {} us (collect {} "
                  "us; {:.0f} us of preparations before it), a freeze now would copy {}",
                  pid_, n, usSince(t), collectUs, prepUs_, forecastText(forecastUs));
    // The freeze follows at once, and its collect re-protects every page.
    rate_.restart(Clock::now());
  };
  if (o.mapsHint.empty()) o.mapsHint = lastMaps_ = ProcFs::maps(pid_, true);
  o.keptPools = &pools_;
  o.keptHelper = &helper_;
  Selection sel(*this, cache, !incremental);
  o.selection = &sel;
  o.precopied = &cache;
  for (auto& [pid, c] : children_)
    if (c.cache && c.tracker) o.childPrecopied[pid] = c.cache.get();
  if (incremental) o.parent = parent_;
  for (auto& [pid, c] : children_) c.seen = false;
  info.dump = Dumper::run(pid_, dir, o);
  std::erase_if(children_, [](const auto& kv) { return !kv.second.seen; });
  // The copies are stored: the memory that held them goes back to the system, but for what
  // the next checkpoints are expected to need (faulting it in anew costs each round).
  cache.endCheckpoint(!incremental);
  for (auto& [pid, c] : children_)
    if (c.cache) c.cache->endCheckpoint(!incremental);
  info.id = dir.filename().string();
  info.rounds = info.dump.precopyRounds;
  parent_ = dir;
  // What the final stop spent besides copying pages (frozen copy time is about proportional).
  double fixed = static_cast<double>(info.dump.stopUs) -
                 static_cast<double>(std::min(info.dump.frozenCopyUs, info.dump.stopUs));
  smooth(fixedStopUs_, fixed);
  // And what a page cost it, from freezes that copied enough for the fixed part not to count.
  if (info.dump.finalPages >= 256)
    smooth(frozenUsPerPage_, static_cast<double>(info.dump.frozenCopyUs) /
                                 static_cast<double>(info.dump.finalPages));
  if (info.dump.overBudget)
    spdlog::warn("checkpoint {} of pid {}: the task was frozen {} us, over the --max-freeze "
                 "budget of {} us",
                 info.id, pid_, info.dump.maxStopUs, o.maxFreezeUs);
  return info;
}

uint64_t Checkpointer::precopyRound(DumpOptions& o, int round, uint64_t& collectUs) {
  auto t = Clock::now();
  DirtySet written, anon;
  try {
    // The listing of the previous round (or checkpoint) spares reading smaps, which walks
    // every page table, while the layout stays the same.
    LiveTarget target(pid_, lastMaps_, {area_.addr, area_.addr + area_.size});
    uint64_t gen = tracker_->flagsGeneration();
    {
      CpuVisit visit(pid_);  // re-protecting from the task's CPU costs it no TLB interrupts
      written = tracker_->collect(target);
      if (visit.moved())
        spdlog::debug("pid {}: round {} scanned on the task's CPUs ({} us to get there)", pid_,
                      round, visit.arrival().count());
    }
    anon = privateAnonymous(target.maps());
    // The listing stays exact unless the collect registered something.
    if (tracker_->flagsGeneration() == gen) o.mapsHint = target.allMaps();
    else o.mapsHint.clear();
    lastMaps_ = o.mapsHint;
  } catch (const Error& e) {
    if (!ProcFs::exists(pid_)) throw;
    throw PrecopyInterrupted(fmt::format("precopy round {} failed: {}", round, e.what()));
  }
  collectUs = usSince(t);
  uint64_t n = cache_->copy(written, anon);
  n += precopyChildren();
  rate_.collected(t + std::chrono::microseconds(collectUs), n);
  if (n >= 64)  // fewer say more of the round's fixed costs than of a page's
    smooth(copyUsPerPage_, static_cast<double>(usSince(t) - collectUs) / static_cast<double>(n));
  o.precopyCopyUs += usSince(t);
  o.precopyPages += n;
  o.precopyRounds = static_cast<uint32_t>(round);
  return n;
}

uint64_t Checkpointer::precopyChildren() {
  uint64_t n = 0;
  for (auto& [pid, c] : children_) {
    if (!c.tracker || !c.tracker->armed() || !c.tracker->collectsWhileRunning()) continue;
    try {
      if (!c.cache) c.cache = std::make_unique<PrecopyCache>(pid);
      LiveTarget target(pid, c.lastMaps, {0, 0});
      uint64_t gen = c.tracker->flagsGeneration();
      DirtySet written;
      {
        CpuVisit visit(pid);
        written = c.tracker->collect(target);
      }
      c.lastMaps = c.tracker->flagsGeneration() == gen ? target.allMaps()
                                                       : std::vector<MapsEntry>{};
      n += c.cache->copy(written, privateAnonymous(target.maps()));
    } catch (const Error& e) {
      // Exited, or its address space replaced: its next checkpoint holds all of it.
      spdlog::debug("pid {}: child {} left pre-copying: {}", pid_, pid, e.what());
      c.tracker.reset();
      c.cache.reset();
    }
  }
  return n;
}

DumpResult Checkpointer::dumpPrecopied(pid_t pid, const std::filesystem::path& dir,
                                       CheckpointPolicy policy, bool leaveRunning) {
  policy.mode = FreezeMode::kPrecopy;
  Checkpointer cp(pid, dir, policy, leaveRunning);
  return cp.checkpoint().dump;
}

CheckpointInfo Checkpointer::once(CheckpointStore& store, pid_t pid, CheckpointPolicy policy) {
  if (policy.mode == FreezeMode::kPrecopy) {
    std::filesystem::path dir = store.nextPath();
    CheckpointInfo info;
    info.dump = dumpPrecopied(pid, dir, policy, true);
    info.id = dir.filename().string();
    info.rounds = info.dump.precopyRounds;
    return info;
  }
  CheckpointInfo info;
  std::filesystem::path dir = store.nextPath();
  DumpOptions o;
  o.leaveRunning = true;
  o.maxFreezeUs = static_cast<uint64_t>(policy.maxFreeze.count());
  o.freezePriority = policy.freezePriority;
  o.tcpClose = policy.tcpClose;
  o.recordView = policy.recordView;
  std::unique_ptr<ParentDiffSelection> sel;
  auto latest = store.latestComplete();
  if (latest && latest->manifest.root_pid() == pid) {
    sel = std::make_unique<ParentDiffSelection>(latest->path);
    o.parent = latest->path;
    o.selection = sel.get();
    o.trackerName = "parent-diff";
    info.incremental = true;
  }
  info.dump = Dumper::run(pid, dir, o);
  info.id = dir.filename().string();
  if (info.dump.overBudget)
    spdlog::warn("checkpoint {} of pid {}: the task was frozen {} us, over the --max-freeze "
                 "budget of {} us",
                 info.id, pid, info.dump.maxStopUs, o.maxFreezeUs);
  return info;
}

}  // namespace cryo
