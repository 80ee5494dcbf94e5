# Program entry. exec leaves the stack as [fake return pc][argc][argv]:
# pass argc and argv on to main and exit with whatever main returns.
.globl _start
_start:
  movl 8(%esp), %eax      # argv
  movl 4(%esp), %ecx      # argc
  pushl %eax
  pushl %ecx
  call main
  pushl %eax
  call exit
1:
  jmp 1b
