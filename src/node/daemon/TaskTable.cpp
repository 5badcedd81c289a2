// TaskTable: tasks by id (NODE-N), one directory each under DATA/tasks (record, store, logs);
// a restored task keeps its id and moves its replica's directory there.
#include "node/daemon/TaskTable.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/UniqueFd.h"
#include "cryo/restore.h"
#include "node/daemon/StoreIndex.h"
#include "node/daemon/ReplicaReceiver.h"

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

UniqueFd openLog(const std::filesystem::path& p) {
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) throw std::runtime_error(fmt::format("cannot open {}: {}", p.string(), strerror(errno)));
  return fd;
}

// The name the kernel gives the file at `p` (readlink of an fd open on it).
std::string kernelName(const std::filesystem::path& p) {
  return std::filesystem::weakly_canonical(p).string();
}

}  // namespace

TaskTable::TaskTable(const Config& config, PeerChannels* channels)
    : node_(config.nodeName),
      config_(config),
      channels_(channels),
      tasksDir_(config.dataDir / "tasks") {
  makePrivateDir(config.dataDir);
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
      tasks_.emplace(id, Entry{std::move(r), nullptr, nullptr});
    } catch (const std::exception& e) {
      spdlog::error("skipping {}: {}", d.path().string(), e.what());
    }
  }
}

std::vector<std::string> TaskTable::standbysFor(uint32_t replicas, bool strict) const {
  std::vector<Peer> picked = strict ? config_.pickStandbys(replicas)
                                    : config_.pickStandbys(std::min<uint32_t>(
                                          replicas, static_cast<uint32_t>(config_.peers.size())));
  std::vector<std::string> names;
  for (const Peer& p : picked) names.push_back(p.name);
  return names;
}

std::unique_ptr<ReplicaSender> TaskTable::senderFor(const TaskRecord& r) {
  if (r.standbys.empty()) return nullptr;
  if (!channels_) throw std::invalid_argument("replication needs the node's [tls] certificate");
  std::vector<Peer> peers;
  for (const std::string& name : r.standbys)
    for (const Peer& p : config_.peers)
      if (p.name == name) peers.push_back(p);
  auto sender = std::make_unique<ReplicaSender>(SenderTask{r.id, node_, r.epoch, r.store()},
                                                peers, *channels_);
  sender->setRecord(r.toJson());
  return sender;
}

api::TaskSpec TaskTable::specOf(const TaskRecord& r, ReplicaSender* sender) const {
  api::TaskSpec spec;
  spec.command = r.command;
  spec.env = r.env;
  spec.store = r.store();
  spec.every = std::chrono::microseconds(r.everyUs);
  spec.maxFreeze = std::chrono::microseconds(r.maxFreezeUs);
  spec.keep = r.keep;
  spec.stdoutPath = r.stdoutPath();
  spec.stderrPath = r.stderrPath();
  if (sender) spec.onCheckpoint = [sender](const std::string&) { sender->checkpointed(); };
  return spec;
}

std::string TaskTable::submit(TaskRecord draft) {
  if (draft.command.empty()) throw std::invalid_argument("submit needs a command");
  draft.standbys = standbysFor(draft.replicas, true);
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
    draft.stdoutWas = kernelName(draft.stdoutPath());
    draft.stderrWas = kernelName(draft.stderrPath());
    draft.save();
    Entry& e = tasks_[id];
    e.record = std::move(draft);
    e.sender = senderFor(e.record);
    e.task = api::Task::start(specOf(e.record, e.sender.get()));
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

TaskView TaskTable::restore(const std::string& id, ReplicaReceiver& replicas) {
  std::optional<TaskRecord> own;
  {
    std::lock_guard lk(mu_);
    if (stopping_) throw std::runtime_error("the daemon is shutting down");
    auto it = tasks_.find(id);
    if (it != tasks_.end()) {
      refresh(it->second);
      const std::string& state = it->second.record.state;
      if (state == "running" || state == "starting")
        throw std::runtime_error(fmt::format("task {} runs on node {} (pid {}): nothing to restore",
                                             id, node_, it->second.record.pid));
      own = it->second.record;
    }
  }
  return adopt(own ? *own : replicas.release(id, tasksDir_ / id));
}

TaskView TaskTable::adopt(TaskRecord rec) {
  rec.node = node_;
  rec.dir = tasksDir_ / rec.id;
  rec.state = "starting";
  rec.pid = 0;
  rec.exitCode = 0;
  rec.lastError.clear();
  rec.standbys = standbysFor(rec.replicas, false);
  UniqueFd out = openLog(rec.stdoutPath());
  UniqueFd err = openLog(rec.stderrPath());
  api::RestoreRequest from;
  from.store = rec.store();
  from.inheritOptional = true;  // (a task may have closed its output since it started)
  if (!rec.stdoutWas.empty()) from.inheritFds[rec.stdoutWas] = out.get();
  if (!rec.stderrWas.empty() && rec.stderrWas != rec.stdoutWas)
    from.inheritFds[rec.stderrWas] = err.get();
  rec.stdoutWas = kernelName(rec.stdoutPath());
  rec.stderrWas = kernelName(rec.stderrPath());
  std::string id = rec.id;
  api::Task* task = nullptr;
  {
    std::lock_guard lk(mu_);
    if (stopping_) throw std::runtime_error("the daemon is shutting down");
    rec.save();
    Entry& e = tasks_[id];
    e.task.reset();  // a task of this node's that ended: its thread is done
    e.record = std::move(rec);
    e.sender = senderFor(e.record);
    e.task = api::Task::restore(specOf(e.record, e.sender.get()), from);
    task = e.task.get();
  }
  api::TaskStatus st = task->waitStarted();  // `out` and `err` stay open until the restore ends
  std::lock_guard lk(mu_);
  Entry& e = entry(id);
  refresh(e);
  if (st.state == api::TaskState::kFailed)
    throw std::runtime_error(fmt::format("task {} could not be restored on node {}: {}", id,
                                         node_, st.lastError));
  spdlog::info("task {} restored from {} and adopted: pid {}", id, e.record.store().string(),
               st.pid);
  return view(e);
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
  if (e.sender) e.sender->setRecord(e.record.toJson());
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
  if (e.sender) v.standbys = e.sender->status();
  try {
    // From the manifests alone (each checkpoint is renamed into place complete): `ps` must not
    // read a whole chain's images at every call.
    for (const IndexEntry& c : StoreIndex::list(e.record.store())) {
      ++v.checkpoints;
      v.lastCheckpoint = c.id;
      v.lastCheckpointAgeS =
          std::chrono::duration<double>(std::chrono::system_clock::now() - c.taken).count();
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
  for (auto& [id, e] : tasks_) {
    refresh(e);
    e.sender.reset();  // the task has ended: no more checkpoints to send
  }
}

}  // namespace cryo::daemon
