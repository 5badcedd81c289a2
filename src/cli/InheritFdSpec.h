// InheritFdSpec: the text of `cryo restore --inherit-fd fd[N]:KEY` (which fd of the restoring
// process replaces which file the task had open).
#pragma once

#include <string>

namespace cryo {

struct InheritFdSpec {
  int fd = -1;
  std::string key;  // a path, "pipe:[INODE]", "socket:[INODE]": what the task's fd was

  // Throws cryo::Error saying what is wrong with `text`.
  static InheritFdSpec parse(const std::string& text);
};

}  // namespace cryo
