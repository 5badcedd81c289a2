// FdRestorerRegistry: the restorers of every kind of fd an image can hold, in the order their
// finish() runs. A new kind of fd is one new FdRestorer listed here (and its FdDumper in
// FdDumperRegistry).
#include "restore/fds/FdRestorerRegistry.h"

#include "restore/fds/EpollFdRestorer.h"
#include "restore/fds/EventFdRestorer.h"
#include "restore/fds/FileFdRestorer.h"
#include "restore/fds/MemfdFdRestorer.h"
#include "restore/fds/InetSocketRestorer.h"
#include "restore/fds/InheritedFdRestorer.h"
#include "restore/fds/InotifyFdRestorer.h"
#include "restore/fds/PipeFdRestorer.h"
#include "restore/fds/SignalFdRestorer.h"
#include "restore/fds/TimerFdRestorer.h"
#include "restore/fds/UnixSocketRestorer.h"

namespace cryo {

std::vector<std::unique_ptr<FdRestorer>> FdRestorerRegistry::all() {
  std::vector<std::unique_ptr<FdRestorer>> v;
  v.push_back(std::make_unique<FileFdRestorer>());
  v.push_back(std::make_unique<MemfdFdRestorer>());
  v.push_back(std::make_unique<PipeFdRestorer>());
  v.push_back(std::make_unique<InheritedFdRestorer>());
  v.push_back(std::make_unique<UnixSocketRestorer>());
  v.push_back(std::make_unique<InetSocketRestorer>());
  v.push_back(std::make_unique<EventFdRestorer>());
  v.push_back(std::make_unique<TimerFdRestorer>());
  v.push_back(std::make_unique<SignalFdRestorer>());
  v.push_back(std::make_unique<EpollFdRestorer>());
  v.push_back(std::make_unique<InotifyFdRestorer>());
  return v;
}

}  // namespace cryo
