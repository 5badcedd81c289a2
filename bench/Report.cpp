// Report: tables and JSON of the benchmark's figures.
#include "Report.h"

#include <sstream>

#include <fmt/format.h>

namespace cryo::bench {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// "12.3 ms [11.9..13.0]"
std::string spread(const Stats& s, double scale, int decimals, const char* unit) {
  if (s.empty()) return "-";
  return fmt::format("{:.{}f} {} [{:.{}f}..{:.{}f}]", s.median() * scale, decimals, unit,
                     s.min() * scale, decimals, s.max() * scale, decimals);
}

std::string gbps(const Stats& s) { return spread(s, 1e-9, 2, "GB/s"); }

std::string sizeName(int mib) {
  return mib % 1024 == 0 ? fmt::format("{} GiB", mib / 1024) : fmt::format("{} MiB", mib);
}

double ratio(const Stats& a, const Stats& b) {
  if (a.empty() || b.empty() || b.median() <= 0) return 0;
  return a.median() / b.median();
}

}  // namespace

const ReferenceResult* Report::referenceFor(int sizeMiB) const {
  for (const auto& r : references)
    if (r.sizeMiB == sizeMiB) return &r;
  return nullptr;
}

void Report::printTable(std::ostream& dest) const {
  std::ostringstream out;
  out << fmt::format("cryo_bench: {} repetitions per figure; median [min..max]\n", reps);
  out << fmt::format("machine: {}, {} CPUs, kernel {}, transparent huge pages: {}\n",
                     machine.value("cpu", "?"), machine.value("cpus", 0),
                     machine.value("kernel", "?"), machine.value("thp", "?"));
  out << fmt::format("cryo: {} ({}); images under {} ({})\n", cryoPath, cryoVersion,
                     machine.value("image_dir", "?"), machine.value("image_fs", "?"));
  out << "GB/s = 10^9 bytes per second; throughput = resident bytes / time\n\n";

  out << "Checkpoint: cryo dump --leave-running\n";
  out << fmt::format("{:<9}{:>8}  {:>11}  {:<30}{:<30}{:<30}\n", "size", "threads", "resident",
                     "dump wall time", "task frozen", "image size");
  for (const auto& s : scenarios) {
    if (s.residentBytes.empty()) continue;
    out << fmt::format("{:<9}{:>8}  {:>7.1f} MiB  {:<30}{:<30}{:<30}\n", sizeName(s.sizeMiB),
                       s.threads, s.residentBytes.median() / kMiB, spread(s.dumpWallMs, 1, 1, "ms"),
                       spread(s.frozenMs, 1, 1, "ms"), spread(s.imageBytes, 1 / kMiB, 1, "MiB"));
  }

  out << "\nRestore: cryo restore, until it prints the pid (inside cryo: CRYO_LOG=info timing)\n";
  out << fmt::format("{:<9}{:>8}  {:<30}{:<30}\n", "size", "threads", "restore wall time",
                     "inside cryo");
  for (const auto& s : scenarios) {
    if (s.restoreWallMs.empty()) continue;
    out << fmt::format("{:<9}{:>8}  {:<30}{:<30}\n", sizeName(s.sizeMiB), s.threads,
                       spread(s.restoreWallMs, 1, 1, "ms"), spread(s.restoreInternalMs, 1, 1, "ms"));
  }

  out << "\nThroughput (resident bytes / time), and its ratio to this machine's reference\n";
  out << fmt::format("{:<9}{:>8}  {:<28}{:>16}   {:<28}{:>22}\n", "size", "threads", "dump",
                     "dump/pvm_readv", "restore", "restore/memcpy-fresh");
  for (const auto& s : scenarios) {
    if (s.dumpBytesPerSec.empty()) continue;
    const ReferenceResult* r = referenceFor(s.sizeMiB);
    std::string rd = r ? fmt::format("{:.2f}", ratio(s.dumpBytesPerSec, r->processVmReadv)) : "-";
    std::string rr = r ? fmt::format("{:.2f}", ratio(s.restoreBytesPerSec, r->memcpyFresh)) : "-";
    out << fmt::format("{:<9}{:>8}  {:<28}{:>16}   {:<28}{:>22}\n", sizeName(s.sizeMiB), s.threads,
                       gbps(s.dumpBytesPerSec), rd, gbps(s.restoreBytesPerSec), rr);
  }

  out << "\nThis machine's references (same sizes)\n";
  out << fmt::format("{:<9}  {:<28}{:<28}{:<28}\n", "size", "memcpy, touched memory",
                     "memcpy, fresh memory", "process_vm_readv");
  for (const auto& r : references) {
    if (!r.error.empty()) {
      out << fmt::format("{:<9}  failed: {}\n", sizeName(r.sizeMiB), r.error);
      continue;
    }
    out << fmt::format("{:<9}  {:<28}{:<28}{:<28}\n", sizeName(r.sizeMiB), gbps(r.memcpyTouched),
                       gbps(r.memcpyFresh), gbps(r.processVmReadv));
  }

  bool failed = false;
  for (const auto& s : scenarios) failed |= !s.error.empty();
  if (failed) {
    out << "\nFailures\n";
    for (const auto& s : scenarios)
      if (!s.error.empty())
        out << fmt::format("{} with {} thread(s): {}\n", sizeName(s.sizeMiB), s.threads, s.error);
  }
  // Without the padding at the ends of lines.
  std::istringstream in(out.str());
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    dest << line << "\n";
  }
}

nlohmann::json Report::toJson() const {
  using nlohmann::json;
  json j;
  j["reps"] = reps;
  j["machine"] = machine;
  j["cryo"] = {{"path", cryoPath}, {"version", cryoVersion}};
  j["units"] = {{"time", "milliseconds"}, {"size", "bytes"}, {"rate", "bytes per second"}};
  j["references"] = json::array();
  for (const auto& r : references)
    j["references"].push_back({{"size_mib", r.sizeMiB},
                               {"error", r.error.empty() ? json(nullptr) : json(r.error)},
                               {"memcpy_touched", r.memcpyTouched.toJson()},
                               {"memcpy_fresh", r.memcpyFresh.toJson()},
                               {"process_vm_readv", r.processVmReadv.toJson()}});
  j["results"] = json::array();
  for (const auto& s : scenarios) {
    json e = {{"size_mib", s.sizeMiB},
              {"threads", s.threads},
              {"ok", s.error.empty()},
              {"error", s.error.empty() ? json(nullptr) : json(s.error)},
              {"repetitions", s.dumpWallMs.count()},
              {"resident_bytes", s.residentBytes.toJson()},
              {"dump_wall_ms", s.dumpWallMs.toJson()},
              {"frozen_ms", s.frozenMs.toJson()},
              {"cryo_dump_ms", s.cryoDumpMs.toJson()},
              {"image_bytes", s.imageBytes.toJson()},
              {"restore_wall_ms", s.restoreWallMs.toJson()},
              {"restore_internal_ms", s.restoreInternalMs.toJson()},
              {"dump_throughput", s.dumpBytesPerSec.toJson()},
              {"restore_throughput", s.restoreBytesPerSec.toJson()}};
    if (const ReferenceResult* r = referenceFor(s.sizeMiB)) {
      e["dump_vs_process_vm_readv"] = ratio(s.dumpBytesPerSec, r->processVmReadv);
      e["restore_vs_memcpy_fresh"] = ratio(s.restoreBytesPerSec, r->memcpyFresh);
    }
    j["results"].push_back(e);
  }
  return j;
}

}  // namespace cryo::bench
