// Dumper: takes one checkpoint of a process tree (the process and its descendants): freeze,
// run every collector per process, thaw or kill, and publish the image atomically. Any
// failure leaves every process running as it was.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "dump/DumpContext.h"

namespace cryo {

// The buffers the frozen copy fills: 8 MiB each, and kMinCopyBuffers of them for a process
// whose dump copies few pages frozen (an incremental or pre-copied one; copying and storing
// then overlap). A freeze that copies more than its buffers hold waits for pages to be stored.
constexpr size_t kCopyBufferBytes = 8 << 20;
constexpr size_t kMinCopyBuffers = 4;

struct DumpResult {
  uint64_t freezeUs = 0;     // all stops of this checkpoint
  uint64_t stopUs = 0;       // the dump's own (final) stop
  uint64_t maxStopUs = 0;
  uint64_t finalPages = 0;   // pages copied while frozen
  uint64_t copyUs = 0;       // copying while frozen plus pre-copying
  uint64_t frozenCopyUs = 0; // copying while frozen (the final stop's memory collectors)
  uint32_t precopyRounds = 0;  // the rounds before the freeze, those the dump ran included
  bool overBudget = false;
  uint64_t totalUs = 0;
  uint64_t pages = 0;
  uint64_t bytes = 0;
};

class Dumper {
 public:
  static DumpResult run(pid_t pid, const std::filesystem::path& dir, const DumpOptions& opts);
};

}  // namespace cryo
