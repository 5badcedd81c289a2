// Registers: the general-purpose register file of one x86_64 thread, with named accessors
// for what injection and syscall-restart handling need.
#pragma once

#include <sys/user.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cryo {

class Registers {
 public:
  Registers() = default;
  explicit Registers(const user_regs_struct& r) : r_(r) {}

  user_regs_struct& raw() { return r_; }
  const user_regs_struct& raw() const { return r_; }

  uint64_t ip() const { return r_.rip; }
  void setIp(uint64_t v) { r_.rip = v; }
  uint64_t sp() const { return r_.rsp; }
  void setSp(uint64_t v) { r_.rsp = v; }
  // The syscall number the thread entered (-1 when not in a syscall).
  int64_t syscallNo() const { return static_cast<int64_t>(r_.orig_rax); }
  void setSyscallNo(int64_t v) { r_.orig_rax = static_cast<uint64_t>(v); }
  int64_t result() const { return static_cast<int64_t>(r_.rax); }
  void setResult(int64_t v) { r_.rax = static_cast<uint64_t>(v); }
  uint64_t arg(int i) const;
  void setArg(int i, uint64_t v);

  // Prepare this register file to execute syscall `nr` at `site` (a syscall instruction).
  void prepareSyscall(uint64_t site, long nr, const std::array<uint64_t, 6>& args);

  // Size of the syscall instruction; an interrupted syscall restarts at ip - this.
  static constexpr uint64_t kSyscallInsnSize = 2;
  // The byte pattern of the syscall instruction.
  static constexpr std::array<uint8_t, 2> kSyscallInsn = {0x0f, 0x05};

  std::string describe() const;

  // Crash-safe injection (see GuardCode.S): injected calls carry the address of the thread's
  // guard slot in a register the kernel preserves across syscalls.
  void setGuardSlotPointer(uint64_t slot) { r_.r12 = slot; }
  static constexpr size_t kGuardSlotSize = 160;
  // The slot contents that resume the thread at `resume` with signal mask `sigmask`.
  static std::vector<uint8_t> guardSlot(const Registers& resume, uint64_t sigmask);
  // The machine code of the guard (syscall instruction first, then the recovery path, then
  // the batch runner).
  static std::vector<uint8_t> guardCode();
  // Offset of the batch runner in guardCode(), and the registers that start it.
  static uint64_t guardBatchOffset();
  void prepareBatch(uint64_t entry, uint64_t table, uint64_t count, uint64_t control);
  static constexpr size_t kBatchEntrySize = 64;   // nr, 6 arguments, result
  static constexpr size_t kBatchControlSize = 32; // done flag, timeval (padded)

 private:
  user_regs_struct r_{};
};

}  // namespace cryo
