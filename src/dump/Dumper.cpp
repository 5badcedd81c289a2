// Dumper: takes one checkpoint of a process: freeze, run every collector, thaw or kill, and
// publish the image atomically. Any failure leaves the process running as it was.
#include "dump/Dumper.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "common/ProcFs.h"
#include "dump/CollectorRegistry.h"
#include "image/ImageReader.h"
#include "image/ImageWriter.h"

namespace cryo {

namespace {

using Clock = std::chrono::steady_clock;

uint64_t usSince(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}

void fillIdentity(pid_t pid, img::Process& p) {
  ProcStat st = ProcFs::stat(pid);
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

// Enough 8 MiB buffers for the task's resident memory (full dumps), within a quarter of the
// memory available; at least 4 (copying and storing then overlap).
size_t copyBufferCount(pid_t pid, const DumpOptions& opts) {
  const size_t kMin = 4;
  if (opts.selection && !opts.parent.empty()) return kMin;
  auto field = [](const std::string& text, const std::string& key) -> uint64_t {
    auto p = text.find(key);
    return p == std::string::npos ? 0 : std::strtoull(text.c_str() + p + key.size(), nullptr, 10);
  };
  auto rollup = ProcFs::tryReadFile(ProcFs::path(pid, "smaps_rollup")).value_or("");
  auto meminfo = ProcFs::tryReadFile("/proc/meminfo").value_or("");
  uint64_t rssKb = field(rollup, "\nRss:");
  uint64_t availKb = field(meminfo, "MemAvailable:");
  uint64_t wantKb = std::min(rssKb + rssKb / 16, availKb / 4);
  return std::max(kMin, static_cast<size_t>(wantKb / (8 * 1024)) + 1);
}

}  // namespace

DumpResult Dumper::run(pid_t pid, const std::filesystem::path& dir, const DumpOptions& opts) {
  auto start = Clock::now();
  if (pid <= 0 || !ProcFs::exists(pid)) fail("no process with pid {}", pid);
  if (!opts.parent.empty()) {
    img::Manifest pm = ImageReader::readManifest(opts.parent, nullptr);
    if (pm.root_pid() != pid)
      fail("parent image {} is a checkpoint of pid {}, not of pid {}", opts.parent.string(),
           pm.root_pid(), pid);
    if (!opts.selection) fail("an incremental dump needs a way to find the changed pages");
  }
  ImageWriter writer(dir);  // checks the destination before the task is touched
  img::Tree tree;
  tree.set_root_pid(pid);
  img::Process& proc = *tree.add_processes();

  // Copy buffers, faulted in before the freeze (that is not the task's time): room for all of a
  // full checkpoint's pages when memory allows, so the task runs again once they are copied.
  BufferPool buffers(copyBufferCount(pid, opts), 8 << 20);
  std::unique_ptr<PageReader> pendingPages;
  ProcessFreezer freezer(pid);
  auto frozenAt = freezer.frozenAt();
  spdlog::debug("pid {}: {} threads frozen in {} us", pid, freezer.threads().size(),
                usSince(start));
  FaultPoint::hit("dump-after-freeze");
  fillIdentity(pid, proc);
  {
    DumpContext ctx(freezer, writer.pages(), buffers, opts);
    if (opts.selection) ctx.setChangedRanges(opts.selection->changedRanges(ctx));
    for (auto& c : CollectorRegistry::all()) {
      try {
        auto t = Clock::now();
        c->collect(ctx, proc);
        spdlog::debug("pid {}: {} state collected in {} us", pid, c->name(), usSince(t));
      } catch (const Error& e) {
        throw Error(fmt::format("dump of pid {} failed ({} state): {}", pid, c->name(), e.what()));
      }
    }
    FaultPoint::hit("dump-after-memory");
    if (opts.selection) opts.selection->captured(ctx);
    pendingPages = ctx.takePendingPages();
    ctx.finish();
  }

  DumpResult res;
  img::Manifest manifest;
  if (opts.leaveRunning) {
    freezer.thaw();
    res.freezeUs = usSince(frozenAt);
  }
  if (pendingPages) pendingPages->finish();
  uint64_t pages = 0;
  for (const auto& r : proc.pages())
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
  if (!opts.leaveRunning) res.freezeUs = usSince(frozenAt);
  manifest.set_freeze_us(res.freezeUs);
  manifest.set_dump_us(usSince(start));
  FaultPoint::hit("dump-before-commit");
  auto commitStart = Clock::now();
  writer.commit(tree, manifest);
  spdlog::debug("pid {}: image committed (fsync, rename) in {} us", pid, usSince(commitStart));
  if (!opts.leaveRunning) freezer.kill();
  res.totalUs = usSince(start);
  res.pages = pages;
  res.bytes = writer.pages().bytes();
  return res;
}

}  // namespace cryo
