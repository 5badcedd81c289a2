// Registers: the general-purpose register file of one x86_64 thread, with named accessors
// for what injection and syscall-restart handling need.
#include "inject/x86_64/Registers.h"

#include <cstring>

#include <fmt/format.h>

namespace cryo {

uint64_t Registers::arg(int i) const {
  switch (i) {
    case 0: return r_.rdi;
    case 1: return r_.rsi;
    case 2: return r_.rdx;
    case 3: return r_.r10;
    case 4: return r_.r8;
    case 5: return r_.r9;
  }
  return 0;
}

void Registers::setArg(int i, uint64_t v) {
  switch (i) {
    case 0: r_.rdi = v; break;
    case 1: r_.rsi = v; break;
    case 2: r_.rdx = v; break;
    case 3: r_.r10 = v; break;
    case 4: r_.r8 = v; break;
    case 5: r_.r9 = v; break;
  }
}

void Registers::prepareSyscall(uint64_t site, long nr, const std::array<uint64_t, 6>& args) {
  r_.rip = site;
  r_.rax = static_cast<uint64_t>(nr);
  r_.orig_rax = static_cast<uint64_t>(-1);  // no syscall in progress: no restart on resume
  for (int i = 0; i < 6; ++i) setArg(i, args[static_cast<size_t>(i)]);
}

extern "C" const uint8_t cryo_guard_code_begin[];
extern "C" const uint8_t cryo_guard_code_end[];
extern "C" const uint8_t cryo_guard_batch[];

uint64_t Registers::guardBatchOffset() {
  return static_cast<uint64_t>(cryo_guard_batch - cryo_guard_code_begin);
}

void Registers::prepareBatch(uint64_t entry, uint64_t table, uint64_t count, uint64_t control) {
  r_.rip = entry;
  r_.r13 = table;
  r_.r14 = count;
  r_.r15 = control;
  r_.orig_rax = static_cast<uint64_t>(-1);  // no syscall in progress: no restart on resume
}

std::vector<uint8_t> Registers::guardCode() {
  return std::vector<uint8_t>(cryo_guard_code_begin, cryo_guard_code_end);
}

std::vector<uint8_t> Registers::guardSlot(const Registers& resume, uint64_t sigmask) {
  const user_regs_struct& r = resume.r_;
  uint64_t v[19] = {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9,
                    r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip, r.eflags, sigmask};
  std::vector<uint8_t> out(kGuardSlotSize, 0);
  std::memcpy(out.data(), v, sizeof v);
  return out;
}

std::string Registers::describe() const {
  return fmt::format("rip={:#x} rsp={:#x} rax={:#x} orig_rax={}", r_.rip, r_.rsp, r_.rax,
                     static_cast<int64_t>(r_.orig_rax));
}

}  // namespace cryo
