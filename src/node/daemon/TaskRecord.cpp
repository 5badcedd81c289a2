// TaskRecord: task.json, as JSON (nlohmann), through AtomicFile.
#include "node/daemon/TaskRecord.h"

#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "node/daemon/AtomicFile.h"

namespace cryo::daemon {

std::string TaskRecord::toJson() const {
  nlohmann::json j = {{"id", id},           {"node", node},
                      {"command", command}, {"env", env},
                      {"every_us", everyUs}, {"max_freeze_us", maxFreezeUs},
                      {"replicas", replicas}, {"keep", keep},
                      {"state", state},     {"pid", pid},
                      {"exit_code", exitCode}, {"last_error", lastError},
                      {"created_unix", createdUnix}, {"epoch", epoch},
                      {"standbys", standbys}, {"stdout_was", stdoutWas},
                      {"stderr_was", stderrWas}};
  return j.dump(2) + "\n";
}

TaskRecord TaskRecord::fromJson(const std::string& text, const std::string& what) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    TaskRecord r;
    r.id = j.at("id").get<std::string>();
    r.node = j.at("node").get<std::string>();
    r.command = j.at("command").get<std::vector<std::string>>();
    r.env = j.value("env", std::vector<std::string>{});
    r.everyUs = j.at("every_us").get<uint64_t>();
    r.maxFreezeUs = j.value("max_freeze_us", uint64_t{0});
    r.replicas = j.value("replicas", uint32_t{0});
    r.keep = j.value("keep", uint32_t{0});
    r.state = j.at("state").get<std::string>();
    r.pid = j.value("pid", 0);
    r.exitCode = j.value("exit_code", 0);
    r.lastError = j.value("last_error", std::string());
    r.createdUnix = j.value("created_unix", 0.0);
    r.epoch = j.value("epoch", uint64_t{0});
    r.standbys = j.value("standbys", std::vector<std::string>{});
    r.stdoutWas = j.value("stdout_was", std::string());
    r.stderrWas = j.value("stderr_was", std::string());
    return r;
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("task record {}: {}", what, e.what()));
  }
}

void TaskRecord::save() const { AtomicFile::write(dir / kFile, toJson(), 0600); }

TaskRecord TaskRecord::load(const std::filesystem::path& dir) {
  std::filesystem::path file = dir / kFile;
  std::string text;
  try {
    text = AtomicFile::read(file);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("task record {}: {}", file.string(), e.what()));
  }
  TaskRecord r = fromJson(text, file.string());
  r.dir = dir;
  return r;
}

}  // namespace cryo::daemon
