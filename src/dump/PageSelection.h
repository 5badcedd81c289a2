// PageSelection: how a dump learns which pages changed since its parent (incremental
// checkpoints) and re-arms write tracking, both while the task is frozen.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace cryo {

class DumpContext;

using PageRanges = std::vector<std::pair<uint64_t, uint64_t>>;  // sorted [start, end)

class PageSelection {
 public:
  virtual ~PageSelection() = default;
  // While frozen, before memory is captured: the ranges written since the parent checkpoint,
  // or nullopt to capture all memory (a full checkpoint).
  virtual std::optional<PageRanges> changedRanges(DumpContext& ctx) = 0;
  // Called on the tracer thread instead of going straight to changedRanges(): does what needs
  // ptrace (settling the threads) and says whether the changedRanges(ctx) that follows may run
  // on another thread while the dump collects the rest of the process's state (it then makes
  // no ptrace request and injects nothing). The two then overlap in the freeze.
  virtual bool prepareConcurrent(DumpContext& /*ctx*/) { return false; }
  // Sooner still: a job for a helper thread, started as soon as the task is frozen, that finds
  // the main process's changed ranges without ptrace and without the dump's context (nullopt:
  // it would need an injection). Empty: no such job. While it runs, the tracer thread calls
  // earlyStands(ctx), which settles the threads without touching what the job uses and says
  // whether the job's result is what changedRanges(ctx) would report now (settling delivered
  // no signal, which would have written a frame into memory). If not, the result is handed
  // back through keepEarly() and added to what changedRanges(ctx) reports next.
  virtual std::function<std::optional<PageRanges>()> earlyChanged() { return {}; }
  virtual bool earlyStands(DumpContext& /*ctx*/) { return false; }
  virtual void keepEarly(std::optional<PageRanges> /*early*/) {}
  // While still frozen, after memory was captured: start tracking writes for the next one.
  virtual void captured(DumpContext& /*ctx*/) {}
};

}  // namespace cryo
