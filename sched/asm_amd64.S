// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
//
// Context switch for x86-64 (System V ABI). Go's gogo/gosave/mcall in one
// small routine: the callee-saved registers, MXCSR and the x87 control
// word are pushed on the current stack, the stack pointer is saved, the
// other stack's pointer loaded, and its registers popped. The saved
// registers thus sit on the goroutine's own stack, where the collector
// scans them.
//
// Frame at a saved sp (low to high):
//	+0  x87 control word (2 bytes)	+8  MXCSR (4 bytes)
//	+16 r15  +24 r14  +32 r13  +40 r12  +48 rbx  +56 rbp  +64 return pc

	.text

// void runtime_gogo_switch(uintptr *from, uintptr to)
	.globl	runtime_gogo_switch
	.hidden	runtime_gogo_switch
	.type	runtime_gogo_switch, @function
runtime_gogo_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$16, %rsp
	stmxcsr	8(%rsp)
	fnstcw	(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	8(%rsp)
	fldcw	(%rsp)
	addq	$16, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	runtime_gogo_switch, .-runtime_gogo_switch

// First code run on a new goroutine stack: r12 holds the G.
// runtime_gostart never returns.
	.globl	runtime_gostart_tramp
	.hidden	runtime_gostart_tramp
	.type	runtime_gostart_tramp, @function
runtime_gostart_tramp:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%r12, %rdi
	call	runtime_gostart
	ud2
	.cfi_endproc
	.size	runtime_gostart_tramp, .-runtime_gostart_tramp

	.section .note.GNU-stack,"",@progbits
