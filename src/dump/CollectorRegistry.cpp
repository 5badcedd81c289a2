// CollectorRegistry: the ordered list of collectors a dump runs, one per kind of state.
#include "dump/CollectorRegistry.h"

#include "dump/CredentialsCollector.h"
#include "dump/FilesCollector.h"
#include "dump/KernelViewCollector.h"
#include "dump/MemoryCollector.h"
#include "dump/PosixTimersCollector.h"
#include "dump/ProcessMiscCollector.h"
#include "dump/SignalsCollector.h"
#include "dump/ThreadsCollector.h"

namespace cryo {

std::vector<std::unique_ptr<Collector>> CollectorRegistry::all() {
  std::vector<std::unique_ptr<Collector>> v;
  // First: before any collector touches the process's fds (a position moved by a dumper's
  // lseek through a shared description would be recorded as the task's).
  v.push_back(std::make_unique<KernelViewCollector>());
  v.push_back(std::make_unique<CredentialsCollector>());
  v.push_back(std::make_unique<ProcessMiscCollector>());
  v.push_back(std::make_unique<SignalsCollector>());
  v.push_back(std::make_unique<PosixTimersCollector>());
  v.push_back(std::make_unique<FilesCollector>());
  v.push_back(std::make_unique<ThreadsCollector>());
  v.push_back(std::make_unique<MemoryCollector>());  // last: the bulk of the frozen time
  return v;
}

}  // namespace cryo
