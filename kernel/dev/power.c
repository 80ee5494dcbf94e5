// Switching the (virtual) machine off.
#include "types.h"
#include "arch/x86.h"
#include "core/defs.h"

#define PIIX4_PM1A_CNT 0x604    // qemu -M pc: PM1a control port set up by the BIOS
#define BOCHS_PM1A_CNT 0xB004   // older qemu / bochs
#define SLP_EN_S5      0x2000   // SLP_EN with sleep type 5 (soft off)

// Ask the ACPI chipset for S5. If that does nothing, stop this CPU for good.
void
power_off(void)
{
  cli();
  outw(PIIX4_PM1A_CNT, SLP_EN_S5);
  outw(BOCHS_PM1A_CNT, SLP_EN_S5);
  microdelay(200000);            // qemu acts on the request asynchronously
  printf("power_off: the machine did not switch off; halting\n");
  for(;;)
    hlt();
}
