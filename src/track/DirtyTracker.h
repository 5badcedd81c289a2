// DirtyTracker: the interface of the dirty-page tracking backends: which pages of a task were
// written since the previous checkpoint. Every call happens while the task is frozen.
//
//   arm(target)      right after a checkpoint captured the task's memory: from now on,
//                    record writes (re-arming an armed tracker starts over).
//   collect(target)  at the next checkpoint, before memory is captured: the pages written
//                    since arm() or the previous collect(), re-armed in the same call; no
//                    write between two checkpoints is lost, none is reported twice
//                    (except after a collect(target, true), see there).
//
// The set also holds, whole, every part of a mapping that was not tracked before (created,
// grown or moved since), and pages that held data and no longer do (MADV_DONTNEED, ...): the
// dump stores those as zero runs so that an older checkpoint's copy is not used. The caller
// must not let the task run its own code between collect() and the copy of its memory.
#pragma once

#include <sys/types.h>

#include <string_view>

#include "dump/PageSelection.h"
#include "track/DirtySet.h"

namespace cryo {

class DumpContext;
class TrackTarget;
struct MapsEntry;

class DirtyTracker {
 public:
  virtual ~DirtyTracker() = default;
  virtual std::string_view name() const = 0;
  // Whether collect() may be called on a running task (a LiveTarget): the backend reads and
  // re-arms each page atomically, so a write racing with the collect is reported either now or
  // at the next collect, never lost. Bounded-freeze checkpoints need it.
  virtual bool collectsWhileRunning() const { return false; }
  // Changes whenever the backend changes the task's mappings' flags (registrations): a
  // listing of the mappings read before a collect that left it unchanged is still exact.
  virtual uint64_t flagsGeneration() const { return 0; }

  void arm(TrackTarget& target);
  // `rearmLater`: a collect of the running task (a pre-copy round) surely follows before the
  // next checkpoint, so re-arming what this call reports may be left to it: that collect may
  // report it once more (never loses a write), and the freeze does not pay for re-arming
  // (uffd-wp: a TLB flush per page table it touches). Backends may ignore it.
  DirtySet collect(TrackTarget& target, bool rearmLater = false);
  bool armed() const { return armed_; }

  // The same calls from a dump in progress (store/Checkpointer through PageSelection).
  void arm(DumpContext& ctx);
  PageRanges changed(DumpContext& ctx, bool rearmLater = false);  // collect(); settles every thread first
  // changed() in two steps: settle every thread (ptrace: the tracer thread) and say whether
  // the collect needs no injected syscall; then the collect alone, which may then run on
  // another thread while the tracer thread goes on with the task's other state.
  bool settleForCollect(DumpContext& ctx);
  PageRanges changedSettled(DumpContext& ctx, bool rearmLater = false);
  // Whether a collect(target) now would make no ptrace request (inject nothing): armed for
  // this task, and the backend needs no set-up in it.
  bool collectsWithoutInjection(TrackTarget& target);
  void trackNew(DumpContext&) {}         // collect() already follows new mappings

  // Mappings whose pages a checkpoint may store (see MappingPolicy).
  static bool trackable(const MapsEntry& m);

 protected:
  // Set during a collect(target, true): the backend may leave what it reports un-re-armed.
  bool rearmLater_ = false;
  virtual void doArm(TrackTarget& target) = 0;
  virtual DirtySet doCollect(TrackTarget& target) = 0;
  // Whether doCollect(target) would inject syscalls into the task (set-up, re-opening after
  // an exec): it must then run on the tracer thread.
  virtual bool collectInjects(TrackTarget& /*target*/) { return true; }
  static uint64_t pageSize();

 private:
  bool armed_ = false;
  pid_t pid_ = 0;
};

}  // namespace cryo
