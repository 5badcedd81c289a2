// RunStatus: what a store says about the checkpoints `cryo run` failed to take, kept in
// run-status.json (mode 0600, replaced atomically: write, fsync, rename).
#include "store/RunStatus.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"

namespace cryo {

namespace {

double nowUnix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void writeAll(int fd, const std::string& text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failErrno("cannot write {}", path);
    done += static_cast<size_t>(n);
  }
}

}  // namespace

RunStatus::RunStatus(std::filesystem::path store) : store_(std::move(store)) {}

void RunStatus::succeeded(const std::string& id) {
  bool stale = f_.sinceGood != 0 || !cleared_;  // (or what an earlier run left)
  f_.sinceGood = 0;
  f_.lastGoodId = id;
  f_.lastGoodTime = nowUnix();
  if (!stale) return;
  cleared_ = true;
  std::string path = (store_ / kFile).string();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) failErrno("cannot remove {}", path);
  syncDir();
}

const RunFailures& RunStatus::failed(const std::string& error) {
  ++f_.sinceGood;
  ++f_.total;
  f_.lastFailureTime = nowUnix();
  f_.lastError = error;
  write();
  return f_;
}

void RunStatus::write() const {
  nlohmann::json j;
  j["failures_since_good"] = f_.sinceGood;
  j["failures_total"] = f_.total;
  j["last_failure_time"] = f_.lastFailureTime;
  j["last_good_id"] = f_.lastGoodId;
  j["last_good_time"] = f_.lastGoodTime;
  j["last_error"] = f_.lastError;
  std::string path = (store_ / kFile).string();
  std::string tmp = path + ".tmp";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) failErrno("cannot create {}", tmp);
    writeAll(fd.get(), j.dump(2) + "\n", tmp);
    if (::fsync(fd.get()) != 0) failErrno("cannot fsync {}", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) failErrno("cannot rename {} to {}", tmp, path);
  syncDir();
}

void RunStatus::syncDir() const {
  UniqueFd dir(::open(store_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir || ::fsync(dir.get()) != 0) failErrno("cannot fsync {}", store_.string());
}

std::optional<RunFailures> RunStatus::read(const std::filesystem::path& store) {
  auto text = ProcFs::tryReadFile((store / kFile).string());
  if (!text) return std::nullopt;
  RunFailures f;
  try {
    nlohmann::json j = nlohmann::json::parse(*text);
    f.sinceGood = j.at("failures_since_good").get<uint64_t>();
    f.total = j.at("failures_total").get<uint64_t>();
    f.lastFailureTime = j.at("last_failure_time").get<double>();
    f.lastGoodId = j.at("last_good_id").get<std::string>();
    f.lastGoodTime = j.at("last_good_time").get<double>();
    f.lastError = j.at("last_error").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not a cryo run status file ({})", (store / kFile).string(), e.what());
  }
  if (f.sinceGood == 0) return std::nullopt;
  return f;
}

std::string RunStatus::describe(const RunFailures& f) {
  std::string since =
      f.lastGoodId.empty()
          ? std::string("no checkpoint was taken by that run")
          : fmt::format("its newest checkpoint {} is {:.1f} s older than the last attempt",
                        f.lastGoodId, f.lastFailureTime - f.lastGoodTime);
  return fmt::format("the last {} checkpoint attempts of cryo run failed ({} failures in all): "
                     "{}; last error: {}",
                     f.sinceGood, f.total, since, f.lastError);
}

}  // namespace cryo
