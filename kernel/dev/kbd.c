// PS/2 keyboard (scan code set 1) turned into console characters.
#include "types.h"
#include "arch/x86.h"
#include "core/defs.h"

#define KBD_STATUS 0x64
#define KBD_DATA   0x60
#define KBD_HAVE_DATA 0x01

// Modifier state bits.
#define MOD_SHIFT 0x01
#define MOD_CTRL  0x02
#define MOD_ALT   0x04
#define MOD_CAPS  0x08
#define MOD_E0    0x10   // the previous byte was the 0xE0 prefix

#define CTRL(c) ((c) - '@')

// Unshifted and shifted characters for make codes 0x00-0x39.
static const char plain_map[0x3A] = {
  0,   0x1B, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', '\b', '\t',
  'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\n', 0,  'a', 's',
  'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`', 0,  '\\', 'z', 'x', 'c', 'v',
  'b', 'n', 'm', ',', '.', '/', 0,   '*', 0,   ' ',
};
static const char shift_map[0x3A] = {
  0,   0x1B, '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '\b', '\t',
  'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\n', 0,  'A', 'S',
  'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~', 0,   '|', 'Z', 'X', 'C', 'V',
  'B', 'N', 'M', '<', '>', '?', 0,   '*', 0,   ' ',
};

static uint mods;

// Which modifier a make code (without the release bit) is, or 0.
static uint
modifier(uchar code)
{
  switch(code){
  case 0x2A: case 0x36: return MOD_SHIFT;   // left/right shift
  case 0x1D: return MOD_CTRL;                // left ctrl (right with E0)
  case 0x38: return MOD_ALT;                 // left alt (right with E0)
  default:   return 0;
  }
}

// Decode the next byte from the controller: a character, 0 for bytes that
// do not produce one, -1 when nothing is waiting.
static int
kbd_getc(void)
{
  uchar code;
  uint m;
  int c;

  if((inb(KBD_STATUS) & KBD_HAVE_DATA) == 0)
    return -1;
  code = inb(KBD_DATA);

  if(code == 0xE0){
    mods |= MOD_E0;
    return 0;
  }
  if(code & 0x80){                           // key released
    mods &= ~(modifier(code & 0x7F) | MOD_E0);
    return 0;
  }
  m = modifier(code);
  if(m){
    mods = (mods | m) & ~MOD_E0;
    return 0;
  }
  if(code == 0x3A){                          // caps lock toggles
    mods ^= MOD_CAPS;
    return 0;
  }
  if(mods & MOD_E0){                         // keypad enter / slash
    mods &= ~MOD_E0;
    if(code == 0x1C) return '\n';
    if(code == 0x35) return '/';
    return 0;                                // arrows etc.: ignored
  }
  if(code >= sizeof(plain_map))
    return 0;

  c = (mods & MOD_SHIFT) ? shift_map[code] : plain_map[code];
  if(mods & MOD_CAPS){
    if(c >= 'a' && c <= 'z') c += 'A' - 'a';
    else if(c >= 'A' && c <= 'Z') c += 'a' - 'A';
  }
  if((mods & MOD_CTRL) && c >= '@' && c <= '~')
    c = CTRL(c & 0x5F);                      // ^A..^Z and friends
  return c;
}

// Keyboard interrupt: feed decoded characters to the console.
void
kbd_intr(void)
{
  console_intr(kbd_getc);
}
