# Build and run the kernel. Everything generated goes under out/.
#
#   make              out/kernel.img out/fs.img out/kernel.elf out/mkfs out/fsck
#                     and out/user/_NAME for every user/NAME.c, user/test/NAME.c
#                     and user/bench/NAME.c
#   make qemu         boot (a window if there is a display, else like qemu-nox)
#   make qemu-nox     boot with the console on this terminal (COM1); ^A x quits
#   make qemu-gdb     boot stopped, waiting for gdb (see .gdbinit)
#   make run CMD='..' run one command line in a fresh guest, print its output
#   make test         run every test suite
#   make deps         install the host packages the build needs
# Variables: CPUS MEM (MiB) SWAP_MB (swap disk, MiB; 0: none) TIMEOUT (s)
# CMD COM2OUT (COM2 trace dump file).

CPUS    ?= 2
MEM     ?= 128
SWAP_MB ?= $(shell expr 2 \* $(MEM))
TIMEOUT ?= 120
CMD     ?=
COM2OUT ?= out/com2.bin

OUT := out
CC  := gcc
LD  := ld
OBJCOPY := objcopy
PYTHON := /usr/bin/python3
QEMU := qemu-system-i386
HOSTCC := gcc

CFLAGS := -m32 -fno-pic -static -fno-builtin -fno-strict-aliasing \
  -O2 -Wall -Werror -ggdb -fno-omit-frame-pointer -ffreestanding \
  -fno-stack-protector -nostdinc -fno-asynchronous-unwind-tables -I.
# <stdarg.h> comes from the compiler, not from a C library.
CFLAGS += -isystem $(shell $(CC) -m32 -print-file-name=include)
KCFLAGS := $(CFLAGS) -Ikernel
ASFLAGS := -m32 -gdwarf-2 -nostdinc -I. -Ikernel
LDFLAGS := -m elf_i386 -z noexecstack
DEPFLAGS = -MMD -MP

# The boot sector is optimised for size: it must fit in 510 bytes.
BOOTCFLAGS := -m32 -march=i386 -fno-pic -fno-builtin -fno-strict-aliasing -Os \
  -Wall -Werror -ffreestanding -fno-stack-protector -nostdinc \
  -fno-asynchronous-unwind-tables -fno-omit-frame-pointer -I. -Ikernel

# ---- host dependencies ---------------------------------------------------
DEPSTAMP := $(OUT)/.deps-installed

.PHONY: all deps
all: $(DEPSTAMP) $(OUT)/kernel.img $(OUT)/kernel.elf $(OUT)/fs.img $(OUT)/mkfs $(OUT)/fsck

$(DEPSTAMP): $(wildcard tools/install-deps.sh)
	@mkdir -p $(@D)
	@if [ -f tools/install-deps.sh ]; then sh tools/install-deps.sh; fi
	@touch $@

deps:
	sh tools/install-deps.sh
	@mkdir -p $(OUT) && touch $(DEPSTAMP)

# ---- kernel ----------------------------------------------------------------
# Every .c and .S file in a subsystem folder (kernel/SUBSYSTEM/) is part of
# the kernel; arch/entry.S goes first. kernel/*.h is the user-space interface.
KENTRY := kernel/arch/entry.S
KSRCS := $(KENTRY) $(filter-out $(KENTRY),$(sort $(wildcard kernel/*/*.c kernel/*/*.S)))
KOBJS := $(patsubst %,$(OUT)/%.o,$(basename $(KSRCS)))
APBIN := $(OUT)/boot/apstart.bin

$(OUT)/kernel/%.o: kernel/%.c | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(CC) $(KCFLAGS) $(DEPFLAGS) -c -o $@ $<

$(OUT)/kernel/%.o: kernel/%.S | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) $(DEPFLAGS) -c -o $@ $<

# The AP start-up code runs at physical 0x7000; the kernel carries it as a
# blob (symbols _binary_out_boot_apstart_bin_*) and copies it there.
$(OUT)/boot/apstart.o: boot/apstart.S | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) $(DEPFLAGS) -c -o $@ $<

$(APBIN): $(OUT)/boot/apstart.o
	$(LD) $(LDFLAGS) -N --no-warn-rwx-segments -e ap_start -Ttext 0x7000 -o $(OUT)/boot/apstart.elf $<
	$(OBJCOPY) -S -O binary -j .text $(OUT)/boot/apstart.elf $@

$(OUT)/kernel.elf: $(KOBJS) $(APBIN) kernel/arch/kernel.ld
	$(LD) $(LDFLAGS) -T kernel/arch/kernel.ld -o $@ $(KOBJS) -b binary $(APBIN)

# ---- boot sector and disk image ------------------------------------------
$(OUT)/boot/bootasm.o: boot/bootasm.S | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) $(DEPFLAGS) -c -o $@ $<

$(OUT)/boot/bootmain.o: boot/bootmain.c | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(CC) $(BOOTCFLAGS) $(DEPFLAGS) -c -o $@ $<

# 510 bytes of code, then the 0x55 0xAA signature.
$(OUT)/bootblock: $(OUT)/boot/bootasm.o $(OUT)/boot/bootmain.o
	$(LD) $(LDFLAGS) -N --no-warn-rwx-segments -e start -Ttext 0x7C00 -o $@.elf $^
	$(OBJCOPY) -S -O binary -j .text $@.elf $@
	@size=$$(stat -c %s $@); if [ $$size -gt 510 ]; then \
	  echo "boot block is $$size bytes: more than 510" >&2; rm -f $@; exit 1; fi
	@truncate -s 510 $@ && printf '\125\252' >> $@

# Boot sector, then the kernel ELF without debug info, padded to a sector.
$(OUT)/kernel.img: $(OUT)/bootblock $(OUT)/kernel.elf
	$(OBJCOPY) --strip-debug $(OUT)/kernel.elf $(OUT)/kernel.stripped
	cat $(OUT)/bootblock $(OUT)/kernel.stripped > $@
	@truncate -s %512 $@

# ---- user programs -------------------------------------------------------
ULIBSRCS := $(sort $(wildcard user/lib/*.c user/lib/*.S))
ULIBOBJS := $(patsubst %,$(OUT)/%.o,$(basename $(ULIBSRCS)))
# Utilities are user/NAME.c, in-guest test suites user/test/NAME.c, benchmark
# programs user/bench/NAME.c; each becomes out/user/_NAME (/NAME in the image).
UPROGDIRS := user user/test user/bench
UPROGSRCS := $(sort $(foreach d,$(UPROGDIRS),$(wildcard $(d)/*.c)))
UPROGS := $(addprefix $(OUT)/user/_,$(basename $(notdir $(UPROGSRCS))))

$(OUT)/user/%.o: user/%.c | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(OUT)/user/%.o: user/%.S | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) $(DEPFLAGS) -c -o $@ $<

# One link rule per folder: out/user/_NAME from out/user[/test|/bench]/NAME.o.
define UPROG_LINK
$$(patsubst $(1)/%.c,$$(OUT)/user/_%,$$(wildcard $(1)/*.c)): $$(OUT)/user/_%: $$(OUT)/$(1)/%.o $$(ULIBOBJS) user/user.ld
	$$(LD) $$(LDFLAGS) -T user/user.ld -o $$@ $$< $$(ULIBOBJS)
endef
$(foreach d,$(UPROGDIRS),$(eval $(call UPROG_LINK,$(d))))

# Keep the per-program objects (make would delete them as intermediates).
.SECONDARY:

# ---- host tools and the file-system image ---------------------------------
$(OUT)/mkfs: tools/mkfs.c | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(HOSTCC) -Wall -Werror -O2 -I. $(DEPFLAGS) -o $@ tools/mkfs.c

$(OUT)/fsck: tools/fsck.c | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(HOSTCC) -Wall -Werror -O2 -I. $(DEPFLAGS) -o $@ tools/fsck.c

$(OUT)/fs.img: $(OUT)/mkfs $(UPROGS)
	$(OUT)/mkfs $@ $(UPROGS)

# ---- running ---------------------------------------------------------------
SWAPDRIVE = -drive file=$(OUT)/swap.img,index=2,media=disk,format=raw,snapshot=on
QEMUOPTS = -drive file=$(OUT)/kernel.img,index=0,media=disk,format=raw \
  -drive file=$(OUT)/fs.img,index=1,media=disk,format=raw \
  $(if $(filter-out 0,$(SWAP_MB)),$(SWAPDRIVE)) \
  -smp $(CPUS) -m $(MEM) -no-reboot -net none
SERIALS = -serial mon:stdio -serial file:$(COM2OUT)
GDBPORT := $(shell expr `id -u` % 5000 + 25000)

.PHONY: qemu qemu-nox qemu-gdb run test clean swapimg

# The swap disk for make qemu*: zeros, attached with snapshot=on (the guest's
# writes are thrown away when it stops; swap is never needed after a reboot).
swapimg:
	@if [ "$(SWAP_MB)" != 0 ]; then rm -f $(OUT)/swap.img; truncate -s $(SWAP_MB)M $(OUT)/swap.img; fi

# A window when there is a display to put it on; the terminal otherwise.
qemu: all swapimg
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo $(QEMU) $(QEMUOPTS) $(SERIALS); \
	  $(QEMU) $(QEMUOPTS) $(SERIALS); \
	else \
	  echo "no display: running without a window"; \
	  echo $(QEMU) -nographic $(QEMUOPTS) $(SERIALS); \
	  $(QEMU) -nographic $(QEMUOPTS) $(SERIALS); \
	fi

qemu-nox: all swapimg
	$(QEMU) -nographic $(QEMUOPTS) $(SERIALS)

.gdbinit: .gdbinit.tmpl
	sed "s/@GDBPORT@/$(GDBPORT)/" $< > $@

qemu-gdb: all .gdbinit swapimg
	@echo "qemu is waiting for gdb on port $(GDBPORT): run gdb in this directory"
	$(QEMU) -nographic $(QEMUOPTS) $(SERIALS) -S -gdb tcp::$(GDBPORT)

# CMD reaches the guest as typed: neither make ($? is one of its automatic
# variables) nor the host shell expands it; single quotes in it are kept.
run: all
	$(PYTHON) tools/run.py --cpus $(CPUS) --mem $(MEM) --swap-mb $(SWAP_MB) --timeout $(TIMEOUT) --com2 $(COM2OUT) -- '$(subst ','\'',$(value CMD))'

test: all
	$(PYTHON) tests/run_all.py

clean:
	rm -rf $(OUT) .gdbinit

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)

# ---- tracing (trace helper) ------------------------------------------------
# make trace CMD='prog args' [TRACEOPTS='-p -m stop -s 20000 -e fault,page_alloc']
#   boots, runs `trace run TRACEOPTS CMD` in the guest, and leaves in
#   results/trace-<prog>/ (or TRACENAME): dump.bin (raw COM2), events.csv,
#   trace.json (Perfetto / chrome://tracing), report.txt (losses, damage).
#   CMD and the processes it forks are traced (-p: CMD only, -a: everyone).
#   A run that panics or times out still leaves the kernel's flight-recorder
#   dump, decoded the same way (trace/FORMAT.md).
TRACEOPTS ?=
TRACENAME ?= $(notdir $(firstword $(CMD)))
TRACEDIR := results/trace-$(TRACENAME)

.PHONY: trace
trace: all
	@if [ -z "$(CMD)" ]; then echo "usage: make trace CMD='prog args'" >&2; exit 2; fi
	@mkdir -p $(TRACEDIR) && rm -f $(TRACEDIR)/dump.bin
	-$(PYTHON) tools/run.py --cpus $(CPUS) --mem $(MEM) --swap-mb $(SWAP_MB) --timeout $(TIMEOUT) \
	  --com2 $(TRACEDIR)/dump.bin -- "trace run $(TRACEOPTS) $(CMD)"
	PYTHONPATH=trace $(PYTHON) -m ktrace decode $(TRACEDIR)/dump.bin \
	  --csv $(TRACEDIR)/events.csv --json $(TRACEDIR)/trace.json --elf $(OUT)/kernel.elf \
	  > $(TRACEDIR)/report.txt; st=$$?; cat $(TRACEDIR)/report.txt; exit $$st
	@echo "trace: results in $(TRACEDIR)/ (events.csv, trace.json, report.txt)"

# ---- benchmarks (bench helper) ---------------------------------------------
# make bench [ONLY=exp,...] [BOOTS=5] [CLOCK=tsc|icount] [RUN=name]
#   runs the experiments (one folder each: bench/<name>/, see bench/README.md)
#   in fresh guests (bench/run_bench.py), each run in its own folder
#   results/<UTC time>-<revision>/ (or results/$(RUN)/; never overwritten),
#   results/latest -> the newest; then the analysis (analysis/kbench): CSV
#   tables, PNG plots and REPORT.md. CLOCK=icount counts guest instructions
#   (deterministic). The report is written even when a guest failed; make
#   then fails. See results/README.md.
# make compare A=results/<run> B=results/<run> [COMPARE_OUT=dir]
#   per timing: both medians, ratio B/A with a bootstrap interval, verdict.
BOOTS ?= $(or $(BENCH_BOOTS),5)
CLOCK ?= tsc
RUN ?= $(BENCH_RUN)

.PHONY: bench compare
bench: all
	$(PYTHON) bench/run_bench.py $(if $(RUN),--run $(RUN)) --boots $(BOOTS) --clock $(CLOCK) \
	  $(if $(ONLY),--only $(ONLY)) --cpus $(CPUS) --mem $(MEM) --swap-mb $(SWAP_MB); st=$$?; test $$st = 2 && exit 2; \
	PYTHONPATH=analysis:trace $(PYTHON) -m kbench report results/$(or $(RUN),latest) && exit $$st

compare:
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make compare A=results/RUN1 B=results/RUN2" >&2; exit 2; }
	PYTHONPATH=analysis:trace $(PYTHON) -m kbench compare $(A) $(B) $(if $(COMPARE_OUT),--out $(COMPARE_OUT))
