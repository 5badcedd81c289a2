// CpuPolicy: where and how eagerly cryo's own threads run (--cpu, --nice), so that copying a
// task's pages need not take the CPU the task runs on. Applied to cryo itself; a task cryo
// starts gets back the priority cryo had before, and the CPUs it had that --cpu does not take
// (all of them if --cpu takes every one).
#pragma once

#include <sched.h>

#include <optional>
#include <string>
#include <vector>

namespace cryo {

class CpuPolicy {
 public:
  // `cpus`: "" or a list like "1" or "0,2-3"; `nice`: nullopt to leave the priority alone.
  CpuPolicy(const std::string& cpus, std::optional<int> nice);
  // Applies the policy to the calling thread (threads created later inherit it).
  void apply();
  // In a child about to exec: the priority the parent had before apply(), and its CPUs but
  // those cryo took (all of them if that leaves none).
  void undoInChild() const;
  bool empty() const { return cpus_.empty() && !nice_; }

  static std::vector<int> parseCpuList(const std::string& text);

 private:
  std::vector<int> cpus_;
  std::optional<int> nice_;
  cpu_set_t originalSet_{};
  cpu_set_t taskSet_{};  // where a task cryo starts runs
  bool haveOriginalSet_ = false;
  int originalNice_ = 0;
};

}  // namespace cryo
