// SubreaperEnvironment: makes the test process a child subreaper, so restored tasks (children of a cryo that has exited) become its children and can be waited for.
#include "SubreaperEnvironment.h"

#include <sys/prctl.h>

#include <cerrno>
#include <cstring>

namespace cryo::test {

void SubreaperEnvironment::SetUp() {
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0)
      << "PR_SET_CHILD_SUBREAPER: " << std::strerror(errno);
  int on = 0;
  ASSERT_EQ(::prctl(PR_GET_CHILD_SUBREAPER, &on, 0, 0, 0), 0);
  ASSERT_EQ(on, 1);
}

}  // namespace cryo::test
