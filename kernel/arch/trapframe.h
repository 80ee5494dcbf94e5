// The registers saved on the kernel stack when a trap, interrupt or system
// call enters the kernel: built by the hardware (bottom), the vector stub
// (trapno, err) and trapasm's pushes of segment and general registers (top).
#ifndef KTRAPFRAME_H
#define KTRAPFRAME_H
struct trapframe {
  // pushal
  uint edi;
  uint esi;
  uint ebp;
  uint oesp;      // esp at pushal time (ignored)
  uint ebx;
  uint edx;
  uint ecx;
  uint eax;
  // segment registers pushed by the common trap entry
  ushort gs;  ushort padding1;
  ushort fs;  ushort padding2;
  ushort es;  ushort padding3;
  ushort ds;  ushort padding4;
  uint trapno;
  // pushed by the CPU (err by the vector stub when the CPU does not)
  uint err;
  uint eip;
  ushort cs;  ushort padding5;
  uint eflags;
  // pushed by the CPU only on a change of privilege level (user -> kernel)
  uint esp;
  ushort ss;  ushort padding6;
};
#endif
