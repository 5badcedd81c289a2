/* GuardCode: the code cryo places in a task for injected syscalls. Injected calls execute the
 * syscall at its start and cryo stops the thread right after it. Only if cryo died meanwhile
 * does the thread run on into the rest, which puts back its signal mask and every register
 * from its slot (address in r12) and jumps to where the thread was: the task runs on as if
 * nothing had happened. Slot layout: see GuardSlot in RemoteSyscalls.h.
 *
 * The batch runner (cryo_guard_batch) executes a table of syscalls in one go, with no ptrace
 * stop between them: r13 = table (64-byte entries: nr, six arguments, result), r14 = entries,
 * r15 = control block (done flag, then a timeval). It sets the done flag and sleeps; cryo,
 * polling the flag, interrupts the sleep with PTRACE_INTERRUPT. If cryo is gone the sleep
 * times out and the thread puts itself back through the recovery path. */
    .section .rodata
    .globl cryo_guard_code_begin
    .globl cryo_guard_code_end
    .globl cryo_guard_batch
cryo_guard_code_begin:
    syscall
cryo_guard_restore:
    mov $14, %eax            /* rt_sigprocmask(SIG_SETMASK, &slot->sigmask, NULL, 8) */
    mov $2, %edi
    lea 144(%r12), %rsi
    xor %edx, %edx
    mov $8, %r10d
    syscall
    mov 56(%r12), %rsp       /* the thread's stack, below its red zone: rflags, rip */
    sub $144, %rsp
    mov 136(%r12), %rax
    mov %rax, (%rsp)
    mov 128(%r12), %rax
    mov %rax, 8(%rsp)
    mov 0(%r12), %rax
    mov 8(%r12), %rbx
    mov 16(%r12), %rcx
    mov 24(%r12), %rdx
    mov 32(%r12), %rsi
    mov 40(%r12), %rdi
    mov 48(%r12), %rbp
    mov 64(%r12), %r8
    mov 72(%r12), %r9
    mov 80(%r12), %r10
    mov 88(%r12), %r11
    mov 104(%r12), %r13
    mov 112(%r12), %r14
    mov 120(%r12), %r15
    mov 96(%r12), %r12
    popfq
    ret $128
cryo_guard_batch:
1:  test %r14, %r14
    jz 2f
    mov 0(%r13), %rax
    mov 8(%r13), %rdi
    mov 16(%r13), %rsi
    mov 24(%r13), %rdx
    mov 32(%r13), %r10
    mov 40(%r13), %r8
    mov 48(%r13), %r9
    syscall
    mov %rax, 56(%r13)
    add $64, %r13
    dec %r14
    jmp 1b
2:  movq $1, (%r15)          /* done: cryo may interrupt the sleep below */
    mov $23, %eax            /* select(0, NULL, NULL, NULL, &control->timeout): unlike */
    xor %edi, %edi           /* nanosleep, an interrupted select leaves the thread's restart */
    xor %esi, %esi           /* block alone (a syscall the thread itself was in when frozen */
    xor %edx, %edx           /* may need it to resume) */
    xor %r10d, %r10d
    lea 8(%r15), %r8
    syscall
    jmp cryo_guard_restore   /* only if cryo is gone: put the thread back */
cryo_guard_code_end:
    .section .note.GNU-stack,"",@progbits
