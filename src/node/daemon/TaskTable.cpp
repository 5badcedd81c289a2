// TaskTable: tasks by id (NODE-N), one directory each under DATA/tasks (record, store, logs).
#include "node/daemon/TaskTable.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cryo/store.h"

namespace cryo::daemon {

namespace {

double nowUnix() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string tail(const std::filesystem::path& p, uint64_t maxBytes) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  auto size = static_cast<uint64_t>(in.tellg());
  uint64_t from = size > maxBytes ? size - maxBytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string out(size - from, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

void makePrivateDir(const std::filesystem::path& p) {
  std::filesystem::create_directories(p);
  std::filesystem::permissions(p, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
}

uint64_t seqOf(const std::string& id) {
  size_t dash = id.rfind('-');
  if (dash == std::string::npos) return 0;
  try {
    return std::stoull(id.substr(dash + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

TaskTable::TaskTable(std::string node, std::filesystem::path dataDir)
    : node_(std::move(node)), tasksDir_(dataDir / "tasks") {
  makePrivateDir(dataDir);
  makePrivateDir(tasksDir_);
  loadRecords();
  keeper_ = std::thread([this] { keepRecords(); });
}

TaskTable::~TaskTable() { shutdown(); }

void TaskTable::loadRecords() {
  for (const auto& d : std::filesystem::directory_iterator(tasksDir_)) {
    if (!std::filesystem::exists(d.path() / TaskRecord::kFile)) continue;
    try {
      TaskRecord r = TaskRecord::load(d.path());
      if (r.state == "running" || r.state == "starting") {
        r.state = "lost";  // its daemon ended without seeing it end; its store is all there is
        r.lastError = "the daemon ended while the task ran; restore it from its store";
        r.save();
      }
      nextSeq_ = std::max(nextSeq_, seqOf(r.id) + 1);
      spdlog::info("task {} ({}) from an earlier run, store {}", r.id, r.state,
                   r.store().string());
      std::string id = r.id;
      tasks_.emplace(id, Entry{std::move(r), nullptr});
    } catch (const std::exception& e) {
      spdlog::error("skipping {}: {}", d.path().string(), e.what());
    }
  }
}

std::string TaskTable::submit(TaskRecord draft) {
  if (draft.command.empty()) throw std::invalid_argument("submit needs a command");
  api::Task* task = nullptr;
  std::string id;
  {
    std::lock_guard lk(mu_);
    if (stopping_) throw std::runtime_error("the daemon is shutting down");
    id = fmt::format("{}-{}", node_, nextSeq_++);
    draft.id = id;
    draft.node = node_;
    draft.dir = tasksDir_ / id;
    draft.state = "starting";
    draft.createdUnix = nowUnix();
    makePrivateDir(draft.dir);
    draft.save();
    api::TaskSpec spec;
    spec.command = draft.command;
    spec.env = draft.env;
    spec.store = draft.store();
    spec.every = std::chrono::microseconds(draft.everyUs);
    spec.maxFreeze = std::chrono::microseconds(draft.maxFreezeUs);
    spec.keep = draft.keep;
    spec.stdoutPath = draft.stdoutPath();
    spec.stderrPath = draft.stderrPath();
    Entry& e = tasks_[id];
    e.record = std::move(draft);
    e.task = api::Task::start(spec);
    task = e.task.get();
  }
  api::TaskStatus st = task->waitStarted();  // entries are never removed: `task` stays valid
  std::lock_guard lk(mu_);
  refresh(entry(id));
  if (st.state == api::TaskState::kFailed)
    throw std::runtime_error(fmt::format("task {} could not start: {}", id, st.lastError));
  spdlog::info("task {} started: pid {}, {}", id, st.pid, fmt::join(entry(id).record.command, " "));
  return id;
}

TaskTable::Entry& TaskTable::entry(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) throw std::out_of_range(fmt::format("no task {} on node {}", id, node_));
  return it->second;
}

void TaskTable::refresh(Entry& e) {
  if (!e.task) return;
  api::TaskStatus st = e.task->status();
  std::string state = api::taskStateName(st.state);
  if (state == e.record.state && st.pid == e.record.pid && st.exitCode == e.record.exitCode)
    return;
  bool ended = st.state != api::TaskState::kRunning && st.state != api::TaskState::kStarting;
  e.record.state = state;
  e.record.pid = st.pid;
  e.record.exitCode = st.exitCode;
  if (ended) e.record.lastError = st.lastError;
  try {
    e.record.save();
  } catch (const std::exception& ex) {
    spdlog::error("task {}: cannot save its record: {}", e.record.id, ex.what());
  }
  if (ended) spdlog::info("task {} {} (status {})", e.record.id, state, st.exitCode);
}

TaskView TaskTable::view(const Entry& e) const {
  TaskView v;
  v.record = e.record;
  if (e.task) {
    api::TaskStatus st = e.task->status();
    v.failures = st.failures;
    v.lastError = st.lastError;
  } else {
    v.lastError = e.record.lastError;
  }
  try {
    for (const api::CheckpointSummary& c : api::listCheckpoints(e.record.store())) {
      if (!c.complete) continue;
      ++v.checkpoints;
      v.lastCheckpoint = c.id;
      v.lastCheckpointAgeS =
          std::chrono::duration<double>(std::chrono::system_clock::now() - c.time).count();
    }
  } catch (const std::exception& ex) {
    v.lastError = fmt::format("cannot read the store: {}", ex.what());
  }
  return v;
}

std::vector<TaskView> TaskTable::list() {
  std::lock_guard lk(mu_);
  std::vector<TaskView> out;
  for (auto& [id, e] : tasks_) {
    refresh(e);
    out.push_back(view(e));
  }
  return out;
}

TaskView TaskTable::stop(const std::string& id) {
  api::Task* task = nullptr;
  {
    std::lock_guard lk(mu_);
    task = entry(id).task.get();
  }
  if (task) task->stop();
  std::lock_guard lk(mu_);
  Entry& e = entry(id);
  refresh(e);
  return view(e);
}

TaskLogs TaskTable::logs(const std::string& id, uint64_t maxBytes) {
  std::filesystem::path out, err;
  {
    std::lock_guard lk(mu_);
    const Entry& e = entry(id);
    out = e.record.stdoutPath();
    err = e.record.stderrPath();
  }
  return TaskLogs{tail(out, maxBytes), tail(err, maxBytes)};
}

void TaskTable::keepRecords() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    for (auto& [id, e] : tasks_) refresh(e);
    wake_.wait_for(lk, std::chrono::seconds(1));
  }
}

void TaskTable::shutdown() {
  std::vector<api::Task*> running;
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !keeper_.joinable()) return;
    stopping_ = true;
    for (auto& [id, e] : tasks_)
      if (e.task) running.push_back(e.task.get());
  }
  wake_.notify_all();
  if (keeper_.joinable()) keeper_.join();
  for (api::Task* t : running) t->stop();
  std::lock_guard lk(mu_);
  for (auto& [id, e] : tasks_) refresh(e);
}

}  // namespace cryo::daemon
