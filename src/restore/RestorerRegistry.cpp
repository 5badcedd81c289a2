// RestorerRegistry: the ordered list of restorers a restore runs, one per kind of state.
// Order matters: memory first (everything else points into it), POSIX timers after the
// threads they may signal, credentials last (they may drop the privileges the others need).
#include "restore/RestorerRegistry.h"

#include "restore/CredentialsRestorer.h"
#include "restore/FilesRestorer.h"
#include "restore/MemoryRestorer.h"
#include "restore/PosixTimersRestorer.h"
#include "restore/ProcessMiscRestorer.h"
#include "restore/SignalsRestorer.h"
#include "restore/ThreadsRestorer.h"

namespace cryo {

std::vector<std::unique_ptr<Restorer>> RestorerRegistry::all() {
  std::vector<std::unique_ptr<Restorer>> v;
  v.push_back(std::make_unique<MemoryRestorer>());
  v.push_back(std::make_unique<FilesRestorer>());
  v.push_back(std::make_unique<ProcessMiscRestorer>());
  v.push_back(std::make_unique<SignalsRestorer>());
  v.push_back(std::make_unique<ThreadsRestorer>());
  v.push_back(std::make_unique<PosixTimersRestorer>());  // after threads: a timer may signal one
  v.push_back(std::make_unique<CredentialsRestorer>());
  return v;
}

}  // namespace cryo
