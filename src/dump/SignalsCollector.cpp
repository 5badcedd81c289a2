// SignalsCollector: (placeholder) Signals state, Collector side.
#include "dump/SignalsCollector.h"

#include "dump/DumpContext.h"

namespace cryo {

void SignalsCollector::collect(DumpContext&, img::Process&) {}

}  // namespace cryo
