// TaskRecord: task.json, as JSON (nlohmann), through AtomicFile.
#include "node/daemon/TaskRecord.h"

#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "node/daemon/AtomicFile.h"

namespace cryo::daemon {

void TaskRecord::save() const {
  nlohmann::json j = {{"id", id},           {"node", node},
                      {"command", command}, {"env", env},
                      {"every_us", everyUs}, {"max_freeze_us", maxFreezeUs},
                      {"replicas", replicas}, {"keep", keep},
                      {"state", state},     {"pid", pid},
                      {"exit_code", exitCode}, {"last_error", lastError},
                      {"created_unix", createdUnix}};
  AtomicFile::write(dir / kFile, j.dump(2) + "\n", 0600);
}

TaskRecord TaskRecord::load(const std::filesystem::path& dir) {
  std::filesystem::path file = dir / kFile;
  try {
    nlohmann::json j = nlohmann::json::parse(AtomicFile::read(file));
    TaskRecord r;
    r.dir = dir;
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
    return r;
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("task record {}: {}", file.string(), e.what()));
  }
}

}  // namespace cryo::daemon
