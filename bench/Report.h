// Report: the benchmark's figures, and how they are shown: a table for people, JSON for scripts.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "Stats.h"

namespace cryo::bench {

// One task size and thread count, over all repetitions.
struct ScenarioResult {
  int sizeMiB = 0;
  int threads = 0;
  std::string error;          // empty if every repetition succeeded
  Stats residentBytes;        // VmRSS of the target before the dump
  Stats dumpWallMs;           // `cryo dump --leave-running`, start to exit
  Stats frozenMs;             // freeze_us recorded in the image
  Stats cryoDumpMs;           // dump_us recorded in the image
  Stats imageBytes;           // sum of the sizes of the image's files
  Stats restoreWallMs;        // `cryo restore`, start until it prints the pid
  Stats restoreInternalMs;    // "restored pid N in X us" (CRYO_LOG=info)
  Stats dumpBytesPerSec;      // resident bytes / frozen time
  Stats restoreBytesPerSec;   // resident bytes / restore wall time
};

// This machine's physical references for one size.
struct ReferenceResult {
  int sizeMiB = 0;
  std::string error;
  Stats memcpyTouched;  // bytes per second
  Stats memcpyFresh;
  Stats processVmReadv;
};


struct Report {
  int reps = 0;
  nlohmann::json machine;  // cpu, cpus, kernel, thp, image_dir, image_fs
  std::string cryoPath, cryoVersion;
  std::vector<ReferenceResult> references;
  std::vector<ScenarioResult> scenarios;

  const ReferenceResult* referenceFor(int sizeMiB) const;
  void printTable(std::ostream& out) const;
  nlohmann::json toJson() const;
};

}  // namespace cryo::bench
