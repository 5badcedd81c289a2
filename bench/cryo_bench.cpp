// cryo_bench: measures cryo's checkpoint and restore of a task of a given resident size and
// thread count, next to this machine's memory bandwidths measured in the same run.
// Needs root (cryo uses ptrace and clone3 with set_tid); runs as a child subreaper so that the
// restored tasks, children of a cryo that has exited, become its own children.
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "Bandwidth.h"
#include "BenchTarget.h"
#include "Report.h"
#include "Subprocess.h"

namespace fs = std::filesystem;

namespace cryo::bench {

namespace {

struct Options {
  std::vector<int> sizes{64, 1024};
  std::vector<int> threads{1, 8};
  int reps = 5;
  std::string json;
  std::string cryo = CRYO_BENCH_CRYO;
  std::string target = CRYO_BENCH_TARGET;
  std::string dir;
  bool keep = false;
};

char g_workDir[4096];

void onSignal(int sig) {
  pid_t p = liveTaskForCleanup();
  if (p > 0) ::kill(p, SIGKILL);
  const char msg[] = "\ncryo_bench: interrupted; images may remain under ";
  ssize_t w = ::write(2, msg, sizeof msg - 1);
  w = ::write(2, g_workDir, ::strlen(g_workDir));
  w = ::write(2, "\n", 1);
  (void)w;
  ::_exit(128 + sig);
}

std::string readFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The file system type holding `path`, from the longest matching mount point.
std::string fsTypeOf(const fs::path& path) {
  std::istringstream in(readFile("/proc/self/mounts"));
  std::string dev, mnt, type, rest, best, bestType = "?";
  std::string p = fs::weakly_canonical(path).string();
  while (in >> dev >> mnt >> type && std::getline(in, rest)) {
    bool under = p == mnt || mnt == "/" || p.rfind(mnt + "/", 0) == 0;
    if (under && mnt.size() >= best.size()) {
      best = mnt;
      bestType = type;
    }
  }
  return bestType;
}

nlohmann::json machineInfo(const fs::path& workDir) {
  nlohmann::json m;
  std::istringstream cpu(readFile("/proc/cpuinfo"));
  std::string line;
  m["cpu"] = "?";
  while (std::getline(cpu, line))
    if (line.rfind("model name", 0) == 0) {
      m["cpu"] = line.substr(line.find(':') + 2);
      break;
    }
  m["cpus"] = ::sysconf(_SC_NPROCESSORS_ONLN);
  utsname u{};
  ::uname(&u);
  m["kernel"] = u.release;
  std::string thp = readFile("/sys/kernel/mm/transparent_hugepage/enabled");
  size_t a = thp.find('['), b = thp.find(']');
  m["thp"] = (a != std::string::npos && b > a) ? thp.substr(a + 1, b - a - 1) : "?";
  m["image_dir"] = workDir.string();
  m["image_fs"] = fsTypeOf(workDir);
  return m;
}

uint64_t dirBytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

std::string sizeName(int mib) {
  return mib % 1024 == 0 ? fmt::format("{} GiB", mib / 1024) : fmt::format("{} MiB", mib);
}

ReferenceResult measureReferences(int mib, int reps) {
  ReferenceResult r;
  r.sizeMiB = mib;
  try {
    Bandwidth bw(static_cast<size_t>(mib) << 20);
    bw.memcpyTouched();  // warm-up: caches, TLB, the helper's pages
    bw.memcpyFresh();
    bw.processVmReadv();
    for (int i = 0; i < reps; ++i) {
      r.memcpyTouched.add(bw.memcpyTouched());
      r.memcpyFresh.add(bw.memcpyFresh());
      r.processVmReadv.add(bw.processVmReadv());
    }
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  std::cerr << fmt::format("references {}: memcpy touched {:.2f} GB/s, fresh {:.2f} GB/s, "
                           "process_vm_readv {:.2f} GB/s{}\n",
                           sizeName(mib), r.memcpyTouched.median() / 1e9,
                           r.memcpyFresh.median() / 1e9, r.processVmReadv.median() / 1e9,
                           r.error.empty() ? "" : " (failed: " + r.error + ")");
  return r;
}

// One repetition: start the target, dump it leaving it running, kill it, restore it, check it.
void runOnce(const Options& o, const fs::path& work, ScenarioResult& s, int rep) {
  BenchTarget target(o.target, s.sizeMiB, s.threads);
  target.checkRunning();
  uint64_t resident = target.residentBytes();
  pid_t pid = target.pid();
  fs::path images = work / fmt::format("image-{}m-{}t-{}", s.sizeMiB, s.threads, rep);

  CommandResult dump = runCommand({o.cryo, "dump", "--pid", std::to_string(pid), "--images",
                                   images.string(), "--leave-running", "--freeze-mode", "stop"},
                                  {}, false, 600);
  if (!dump.ok()) throw std::runtime_error(dump.describe());
  try {
    target.checkRunning();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("after `cryo dump --leave-running`: {}", e.what()));
  }

  CommandResult show = runCommand({o.cryo, "show", "--images", images.string(), "--json"}, {},
                                  false, 120);
  if (!show.ok()) throw std::runtime_error(show.describe());
  nlohmann::json info;
  try {
    info = nlohmann::json::parse(show.out);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("`cryo show --json` printed no valid JSON: {}", e.what()));
  }
  if (!info.contains("freeze_us"))
    throw std::runtime_error("`cryo show --json` has no freeze_us");
  double frozenMs = info["freeze_us"].get<double>() / 1000.0;
  double cryoDumpMs = info.value("dump_us", 0.0) / 1000.0;
  uint64_t imageBytes = dirBytes(images);

  target.kill();  // frees the pid for the restore
  CommandResult restore =
      runCommand({o.cryo, "restore", "--images", images.string()}, {"CRYO_LOG=info"}, true, 600);
  if (!restore.ok()) throw std::runtime_error(restore.describe());
  pid_t restored = 0;
  try {
    restored = std::stoi(restore.out);
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format("`cryo restore` printed no pid: '{}'\n{}", restore.out,
                                         restore.err));
  }
  if (restored != pid)
    throw std::runtime_error(fmt::format("`cryo restore` printed pid {}, expected {}", restored, pid));
  try {
    target.adoptRestored(restored);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("the restored task is not right: {}\n--- cryo restore's "
                                         "standard error ---\n{}---",
                                         e.what(), restore.err));
  }
  target.kill();
  double internalMs = 0;
  if (size_t p = restore.err.find("restored pid "); p != std::string::npos)
    if (size_t q = restore.err.find(" in ", p); q != std::string::npos)
      internalMs = std::strtod(restore.err.c_str() + q + 4, nullptr) / 1000.0;
  std::error_code ec;
  fs::remove_all(images, ec);

  s.residentBytes.add(static_cast<double>(resident));
  s.dumpWallMs.add(dump.wallMs);
  s.frozenMs.add(frozenMs);
  s.cryoDumpMs.add(cryoDumpMs);
  s.imageBytes.add(static_cast<double>(imageBytes));
  s.restoreWallMs.add(restore.firstLineMs);
  if (internalMs > 0) s.restoreInternalMs.add(internalMs);
  if (frozenMs > 0) s.dumpBytesPerSec.add(static_cast<double>(resident) / (frozenMs / 1000.0));
  if (restore.firstLineMs > 0)
    s.restoreBytesPerSec.add(static_cast<double>(resident) / (restore.firstLineMs / 1000.0));
  std::cerr << fmt::format("{}, {} thread(s), run {}/{}: dump {:.1f} ms (frozen {:.1f} ms), "
                           "image {:.1f} MiB, restore {:.1f} ms\n",
                           sizeName(s.sizeMiB), s.threads, rep + 1, o.reps, dump.wallMs, frozenMs,
                           imageBytes / 1048576.0, restore.firstLineMs);
}

ScenarioResult runScenario(const Options& o, const fs::path& work, int mib, int threads) {
  ScenarioResult s;
  s.sizeMiB = mib;
  s.threads = threads;
  for (int rep = 0; rep < o.reps; ++rep) {
    try {
      runOnce(o, work, s, rep);
    } catch (const std::exception& e) {
      s.error = fmt::format("run {}: {}", rep + 1, e.what());
      std::cerr << fmt::format("cryo_bench: {} with {} thread(s) failed in {}\n", sizeName(mib),
                               threads, s.error);
      break;
    }
  }
  return s;
}

int run(const Options& o) {
  if (::geteuid() != 0) {
    std::cerr << "cryo_bench: needs root: cryo checkpoints with ptrace and restores with clone3 "
                 "set_tid (run it with sudo)\n";
    return 2;
  }
  for (const auto& p : {o.cryo, o.target})
    if (::access(p.c_str(), X_OK) != 0) {
      std::cerr << fmt::format("cryo_bench: {} is not an executable (build it first, or pass "
                               "--cryo / --target)\n",
                               p);
      return 2;
    }
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    std::perror("cryo_bench: prctl(PR_SET_CHILD_SUBREAPER)");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);

  fs::path parent = !o.dir.empty() ? fs::path(o.dir)
                    : ::getenv("TMPDIR") ? fs::path(::getenv("TMPDIR"))
                                         : fs::path("/tmp");
  std::string tmpl = (parent / "cryo-bench-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    std::perror(("cryo_bench: mkdtemp " + tmpl).c_str());
    return 2;
  }
  fs::path work = tmpl;
  std::snprintf(g_workDir, sizeof g_workDir, "%s", work.c_str());

  Report report;
  report.reps = o.reps;
  report.machine = machineInfo(work);
  report.cryoPath = o.cryo;
  CommandResult ver = runCommand({o.cryo, "--version"}, {}, false, 30);
  report.cryoVersion = ver.ok() ? ver.out.substr(0, ver.out.find('\n')) : "version unknown";

  for (int mib : o.sizes) {
    report.references.push_back(measureReferences(mib, o.reps));
    for (int t : o.threads) report.scenarios.push_back(runScenario(o, work, mib, t));
  }

  std::cout << "\n";
  report.printTable(std::cout);
  std::cout.flush();
  int rc = 0;
  for (const auto& s : report.scenarios)
    if (!s.error.empty()) rc = 1;
  for (const auto& r : report.references)
    if (!r.error.empty()) rc = 1;
  if (!o.json.empty()) {
    std::ofstream f(o.json);
    f << report.toJson().dump(2) << "\n";
    if (!f) {
      std::cerr << "cryo_bench: cannot write " << o.json << "\n";
      rc = 1;
    }
  }
  if (o.keep) {
    std::cerr << "cryo_bench: kept " << work.string() << "\n";
  } else {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  return rc;
}

}  // namespace

}  // namespace cryo::bench

int main(int argc, char** argv) {
  cryo::bench::Options o;
  CLI::App app{"cryo_bench: checkpoint and restore timings of cryo next to this machine's memory "
               "bandwidth (needs root)"};
  app.add_option("--sizes", o.sizes, "Resident sizes of the target, in MiB")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "Thread counts of the target")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  app.add_option("--reps", o.reps, "Repetitions per figure")->check(CLI::Range(1, 1000));
  app.add_option("--json", o.json, "Also write the figures as JSON to this file");
  app.add_option("--cryo", o.cryo, "The cryo binary")->capture_default_str();
  app.add_option("--target", o.target, "The bench_target binary")->capture_default_str();
  app.add_option("--dir", o.dir, "Where to create the temporary image directory (default $TMPDIR "
                                 "or /tmp)");
  app.add_flag("--keep", o.keep, "Keep the temporary directory");
  CLI11_PARSE(app, argc, argv);
  try {
    return cryo::bench::run(o);
  } catch (const std::exception& e) {
    std::cerr << "cryo_bench: " << e.what() << "\n";
    return 1;
  }
}
