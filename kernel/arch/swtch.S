# swtch(struct context **old, struct context *new)
#
# Save the callee-saved registers of the running kernel thread on its own
# stack, in struct context order (edi lowest, then esi, ebx, ebp, and the
# return address pushed by our caller's call as eip), store that stack
# pointer in *old, then adopt new as the stack and pop the same layout.
# The final ret resumes the other thread where it last called swtch (or at
# the eip a freshly built context names).
.text
.globl swtch
swtch:
  movl 4(%esp), %eax        # old: where to record our context
  movl 8(%esp), %ecx        # new: the context to resume

  pushl %ebp
  pushl %ebx
  pushl %esi
  pushl %edi
  movl %esp, (%eax)

  movl %ecx, %esp
  popl %edi
  popl %esi
  popl %ebx
  popl %ebp
  ret
