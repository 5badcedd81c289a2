// TargetProgram: the catalogue of test programs a checkpoint is taken of, and how to start one in its own work directory.
#include "TargetProgram.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

#include "OutputCompare.h"
#include "ProcessControl.h"

namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace cryo::test {

namespace {

constexpr const char* kSystemPython = "/usr/bin/python3";
constexpr const char* kShell = "/bin/sh";
constexpr const char* kXz = "/usr/bin/xz";

fs::path programsDir() { return CRYO_TEST_PROGRAMS_DIR; }

// The input file_pipe reads: 18 chunks of 96 bytes of plain text, the same on every run.
std::string filePipeInput() {
  std::ostringstream o;
  for (int i = 0; o.str().size() < 18 * 96; i++)
    o << "line " << i << ": the quick brown fox jumps over dog number " << (i * 7919) % 1000
      << "\n";
  return o.str().substr(0, 18 * 96);
}

// 16 MiB of text made of a few thousand pseudo-random words: xz with two worker threads takes
// two seconds or more (its run must outlast 70 % of the nominal time even on an idle machine).
std::string xzInput() {
  uint64_t state = 5;
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  std::vector<std::string> words;
  for (int i = 0; i < 5000; i++) {
    std::string w;
    for (uint64_t n = 2 + next() % 8; n > 0; --n) w += static_cast<char>('a' + next() % 10);
    words.push_back(w);
  }
  std::string out;
  out.reserve(16 << 20);
  while (out.size() < (16u << 20)) {
    for (int k = 0; k < 8; k++) {
      out += words[next() % words.size()];
      out += k == 7 ? '\n' : ' ';
    }
  }
  return out;
}

}  // namespace

TargetProgram::TargetProgram(std::string name, Kind kind, milliseconds runTime, int threads,
                             std::vector<std::string> extraOutputs,
                             std::vector<std::string> appendedFiles)
    : name_(std::move(name)),
      kind_(kind),
      runTime_(runTime),
      threads_(threads),
      extraOutputs_(std::move(extraOutputs)),
      appendedFiles_(std::move(appendedFiles)) {}

const std::vector<TargetProgram>& TargetProgram::all() {
  static const std::vector<TargetProgram> programs = {
      TargetProgram("compute_mem", Kind::Native, milliseconds(1850), 1, {}, {}),
      TargetProgram("file_pipe", Kind::Native, milliseconds(1980), 1,
                    {"append.out", "scratch.bin"}, {"append.out"}),
      TargetProgram("signals", Kind::Native, milliseconds(1760), 1, {}, {}),
      TargetProgram("threads", Kind::Native, milliseconds(1800), 7, {}, {}),
      TargetProgram("static_compute", Kind::Native, milliseconds(1850), 1, {}, {}),
      TargetProgram("py_compute", Kind::SystemPython, milliseconds(1800), 1, {}, {}),
      TargetProgram("anon_fds", Kind::Native, milliseconds(1620), 1, {}, {}),
      TargetProgram("posix_timers", Kind::Native, milliseconds(1800), 2, {}, {}),
      TargetProgram("inotify_watch", Kind::Native, milliseconds(1760), 1, {}, {}),
      TargetProgram("epoll_stale", Kind::Native, milliseconds(1760), 1, {}, {}),
      // epoll_stale whose stale entry's file only a child holds.
      TargetProgram("epoll_stale_child", Kind::Native, milliseconds(1760), 1, {}, {}),
      TargetProgram("proc_tree", Kind::Native, milliseconds(1700), 1, {}, {}),
      TargetProgram("shm_tree", Kind::Native, milliseconds(1650), 1, {}, {}),
      // proc_tree whose last child also holds an inotify fd.
      TargetProgram("proc_tree_inotify", Kind::Native, milliseconds(1700), 1, {}, {}),
      // `sh -c "pipe_producer | sort | sha256sum"`: a shell and its pipeline.
      TargetProgram("shell_pipeline", Kind::Shell, milliseconds(1640), 1, {}, {}),
      // Debian's xz compressing with two worker threads: a multi-threaded real program.
      TargetProgram("xz_threads", Kind::Debian, milliseconds(1800), 3, {}, {}),
      TargetProgram("unix_sockets", Kind::Native, milliseconds(1530), 1, {}, {}),
      TargetProgram("unix_server", Kind::Native, milliseconds(1600), 1, {}, {}),
      TargetProgram("inet_server", Kind::Native, milliseconds(20000), 1, {}, {}),
      TargetProgram("vm_flags", Kind::Native, milliseconds(700), 1, {}, {}),
      // POSIX, OFD and flock locks held by a parent and its child, proved after the gate.
      TargetProgram("file_locks", Kind::Native, milliseconds(100), 1, {}, {}),
      // Processes sharing an fd table and cwd/root/umask (clone without CLONE_THREAD).
      TargetProgram("shared_tables", Kind::Native, milliseconds(100), 1, {}, {}),
      // A parent, child and grandchild sharing memory copy-on-write, counted by each.
      TargetProgram("cow_tree", Kind::Native, milliseconds(100), 1, {}, {}),
      // Files and a FIFO deleted while open or mapped, used again after the gate.
      TargetProgram("deleted_files", Kind::Native, milliseconds(100), 1, {}, {}),
      // Connections waiting in UNIX listeners' backlogs and files in flight over UNIX sockets.
      TargetProgram("unix_backlog_rights", Kind::Native, milliseconds(100), 1, {}, {}),
  };
  return programs;
}

const TargetProgram& TargetProgram::byName(const std::string& name) {
  for (const auto& p : all())
    if (p.name() == name) return p;
  throw std::invalid_argument("no test program named " + name);
}

bool TargetProgram::available(std::string* why) const {
  if (kind_ == Kind::Debian && ::access(kXz, X_OK) != 0) {
    if (why) *why = std::string(kXz) + " is not installed (apt-get install xz-utils)";
    return false;
  }
  if (kind_ == Kind::Shell && ::access(kShell, X_OK) != 0) {
    if (why) *why = std::string(kShell) + " is not installed";
    return false;
  }
  if (kind_ == Kind::SystemPython && ::access(kSystemPython, X_OK) != 0) {
    if (why) *why = std::string(kSystemPython) + " is not installed (apt-get install python3)";
    return false;
  }
  return true;
}

std::vector<std::string> TargetProgram::argv(const fs::path& workdir) const {
  if (kind_ == Kind::SystemPython)
    return {kSystemPython, "-I", "-S", (programsDir() / (name_ + ".py")).string()};
  if (kind_ == Kind::Shell)
    return {kShell, "-c", (programsDir() / "pipe_producer").string() + " | sort | sha256sum"};
  if (name_ == "xz_threads")
    return {kXz, "-T2", "-3", "--block-size=512KiB", "-c", (workdir / "input.txt").string()};
  if (name_ == "proc_tree_inotify")
    return {(programsDir() / "proc_tree").string(), "--inotify-child"};
  if (name_ == "epoll_stale_child")
    return {(programsDir() / "epoll_stale").string(), "--in-child"};
  std::vector<std::string> args = {(programsDir() / name_).string()};
  if (name_ == "file_pipe") {
    args.push_back((workdir / "input.txt").string());
    args.push_back(workdir.string());
  }
  if (name_ == "unix_sockets" || name_ == "unix_server" || name_ == "inet_server" ||
      name_ == "file_locks" || name_ == "shared_tables" || name_ == "deleted_files" ||
      name_ == "unix_backlog_rights")
    args.push_back(workdir.string());
  return args;
}

TargetRun TargetProgram::start(const fs::path& workdir, const fs::path& gate) const {
  TargetRun run;
  run.workdir = workdir;
  run.gate = gate;
  fs::create_directories(workdir);
  if (name_ == "file_pipe") OutputCompare::writeFile(workdir / "input.txt", filePipeInput());
  if (name_ == "xz_threads") OutputCompare::writeFile(workdir / "input.txt", xzInput());
  std::vector<std::string> env;
  if (!gate.empty()) env.push_back("CRYO_TEST_GATE=" + gate.string());
  run.pid = ProcessControl::spawnTarget(argv(workdir), run.output(), env);
  std::cout << "[target] " << name_ << " started as pid " << run.pid << " in " << workdir.string()
            << "\n";
  return run;
}

}  // namespace cryo::test
