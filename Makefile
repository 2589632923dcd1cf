# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# vfioguard. `make` builds, `make check` runs every test, `make demo` shows audit in the test
# guest, `make deps` installs the Debian 12 packages all of that needs. V=1 for full commands.

# TARGET=arm64 on an x86_64 host cross-builds vfioguard and the test programs into build/arm64
# with Debian's cross compiler and :arm64 libraries (make deps installs both); its vmlinux.h
# comes from the BTF inside Debian's arm64 kernel image, the kernel the arm64 test guest boots.
HOST_ARCH := $(shell uname -m | sed -e 's/aarch64/arm64/')
TARGET ?= $(HOST_ARCH)
CLANG ?= clang
BPFTOOL ?= bpftool
VERSION := 0.1.0
ifeq ($(TARGET),$(HOST_ARCH))
BUILD ?= build
CC ?= gcc
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
else ifeq ($(TARGET),arm64)
BUILD ?= build/arm64
CC := aarch64-linux-gnu-gcc
VMLINUX_BTF ?= $(BUILD)/vmlinux.btf
else
$(error TARGET=$(TARGET): choices are x86_64 and arm64)
endif
ARCH := $(shell echo $(TARGET) | sed -e 's/x86_64/x86/')

CFLAGS ?= -O2 -g
# CPPFLAGS and LDFLAGS as dpkg-buildflags gives them (debian/rules) reach the compile and link.
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS += -I$(BUILD) -DVFIOGUARD_VERSION='"$(VERSION)"'
# Keyed tables are uthash's: one that cannot grow leaves the new entry out (its hh.tbl is NULL)
# instead of exiting the process.
CFLAGS += -DHASH_NONFATAL_OOM=1
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ibpf -Wall \
	-I/usr/include/$(shell $(CC) -dumpmachine) \
	-Wno-unused-function
# capstone, libdw, libmicrohttpd and libudev are loaded at run time, when first needed
# (loader/host/dynlib.h).
LIBS := -lbpf -lelf -lz -ljson-c -lyaml -lcrypt -lpthread -ldl
# features attaches a uprobe to a function of its own by name: in .dynsym it survives strip
# (the Debian package's binary is stripped).
EXPORTS := -Wl,--export-dynamic-symbol=features_uprobe_target

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(wildcard bpf/*.bpf.c))
SKELS := $(patsubst $(BUILD)/%.bpf.o,$(BUILD)/%.skel.h,$(BPF_OBJS))
# Light skeletons: the kernel applies the CO-RE relocations, so loading parses no kernel BTF in
# user space (the snapshot, which audit loads every run).
SKELS += $(BUILD)/snapshot.lskel.h
LOADER_SRCS := $(wildcard loader/*/*.c)
POLICY_SRCS := $(wildcard policy/*.c)
CLI_SRCS := $(wildcard cli/*.c cli/*/*.c)
# What the unit tests link: everything but the command line (cli/ adds only its printing and
# the web configuration, which have tests of their own).
TEST_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LOADER_SRCS) $(POLICY_SRCS) cli/output.c cli/web_config.c \
	cli/serve/metrics.c)
OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LOADER_SRCS) $(POLICY_SRCS) $(CLI_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libyaml-dev libjson-c-dev \
	libcmocka-dev uthash-dev libcapstone-dev libdw-dev libmicrohttpd-dev libudev-dev libcrypt-dev bpftrace systemtap-sdt-dev libclang-rt-14-dev pkg-config make gcc qemu-system-x86 busybox-static kmod \
	cpio xz-utils zstd jq bash-completion debhelper lintian curl openssl
# The arm64 build and test guest: cross compiler, :arm64 libraries (they co-install with the
# amd64 ones), and the amd64 QEMU that runs an arm64 guest.
ifeq ($(HOST_ARCH),x86_64)
DEPS += gcc-aarch64-linux-gnu qemu-system-arm libc6-dev:arm64 libbpf-dev:arm64 libelf-dev:arm64 \
	zlib1g-dev:arm64 libyaml-dev:arm64 libjson-c-dev:arm64 libcapstone-dev:arm64 libdw-dev:arm64 \
	libmicrohttpd-dev:arm64 libudev-dev:arm64 libcrypt-dev:arm64 \
	systemtap-sdt-dev:arm64
endif

.PHONY: all deps check unit guest-test demo bench bench-audit bench-monitor bench-copies bench-qemu clean \
	install uninstall deb
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/vfioguard $(BUILD)/vfg-testvmm $(BUILD)/vfg-slowclients

deps:
	@case " $(DEPS) " in *:arm64*) dpkg --print-foreign-architectures | grep -qx arm64 || \
		{ echo "  DEPS     dpkg --add-architecture arm64"; dpkg --add-architecture arm64 && \
		  apt-get update -qq; } ;; esac
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || exit 1; \
	fi; \
	apt-cache depends linux-image-amd64 2>/dev/null | grep -q 'Depends: linux-image-[0-9]' || \
		apt-get update -qq

$(BUILD)/vmlinux.h: $(filter $(BUILD)/%,$(VMLINUX_BTF)) | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

ifneq ($(TARGET),$(HOST_ARCH))
# The BTF of Debian's arm64 6.12 kernel, cut out of its image (tests/vm/image-btf).
$(BUILD)/vmlinux.btf: tests/vm/image-btf tests/vm/prepare | $(BUILD)
	$(call msg,BTF,$@)
	$(Q)kdir=$$(tests/vm/prepare arm64 6.12 build/vm) && tests/vm/image-btf $$kdir/vmlinuz $@
endif

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/%.lskel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton -L $< > $@

# Each object depends on the headers it includes, skeletons included (-MMD writes the list
# next to the object); the first build has none, so every skeleton is made before any object.
$(BUILD)/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/vfioguard: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(EXPORTS) $^ $(LIBS) -o $@

$(BUILD)/vfg-testvmm: tests/testvmm.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(BUILD)/vfg-slowclients: tests/slowclients.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(TEST_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -MF $@.d -MT $@ $(filter %.c %.o,$^) -lcmocka $(LIBS) -o $@

# libFuzzer targets: clang with the fuzzer and sanitizer runtimes (libclang-rt-14-dev).
FUZZ_CFLAGS := -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZERS := $(BUILD)/fuzz/fuzz_policy $(BUILD)/fuzz/fuzz_calib_cache

$(BUILD)/fuzz/fuzz_policy: tests/fuzz/fuzz_policy.c policy/policy.c policy/policy.h \
		loader/decode/cache_mode.c loader/decode/region.c $(wildcard loader/decode/*.h) \
		bpf/vfioguard.h
	@mkdir -p $(dir $@)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) tests/fuzz/fuzz_policy.c policy/policy.c loader/decode/cache_mode.c \
		loader/decode/region.c -lyaml -o $@

$(BUILD)/fuzz/fuzz_calib_cache: tests/fuzz/fuzz_calib_cache.c loader/calib/calib_case.c \
		$(wildcard loader/calib/*.h) bpf/vfioguard.h
	@mkdir -p $(dir $@)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) tests/fuzz/fuzz_calib_cache.c loader/calib/calib_case.c -o $@

$(BUILD):
	@mkdir -p $@

unit: $(UNIT_TESTS)
	$(Q)tests/check --unit-only $(UNIT_TESTS)

guest-test: all
ifeq ($(HOST_ARCH),x86_64)
	$(Q)$(MAKE) --no-print-directory TARGET=arm64 all
endif
	$(Q)tests/check --guest-only

check: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_TESTS) $(FUZZERS)
	$(Q)$(MAKE) --no-print-directory deb
ifeq ($(HOST_ARCH),x86_64)
	$(Q)$(MAKE) --no-print-directory TARGET=arm64 all
endif
	$(Q)tests/check $(UNIT_TESTS)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/vm/run tests/demo.sh

# The guest of a benchmark: BENCH_VM="--arch arm64 --kernel 6.12 --timeout 3000" (default
# x86_64, 6.1; each benchmark's baselines start bpftrace, which takes seconds under emulation).
BENCH_VM ?= --timeout 1800

bench: deps
	$(Q)$(MAKE) --no-print-directory all
ifeq ($(HOST_ARCH),x86_64)
	$(Q)$(MAKE) --no-print-directory TARGET=arm64 all
endif
	$(Q)tests/vm/run $(BENCH_VM) bench/audit.sh $(BENCH_ARGS)
	$(Q)tests/vm/run $(BENCH_VM) bench/monitor.sh $(BENCH_ARGS)
	$(Q)tests/vm/run $(BENCH_VM) bench/copies.sh $(BENCH_ARGS)
	$(Q)tests/vm/run $(BENCH_VM) bench/qemu.sh $(BENCH_ARGS)

bench-audit bench-monitor bench-copies bench-qemu: bench-%: deps
	$(Q)$(MAKE) --no-print-directory all
ifeq ($(HOST_ARCH),x86_64)
	$(Q)$(MAKE) --no-print-directory TARGET=arm64 all
endif
	$(Q)tests/vm/run $(BENCH_VM) bench/$*.sh $(BENCH_ARGS)

# make install [PREFIX=/usr/local] [DESTDIR=]: the program (sbin: it needs root), its man page,
# bash completion, the systemd unit of serve and the example policies.
PREFIX ?= /usr/local
sbindir := $(PREFIX)/sbin
mandir := $(PREFIX)/share/man
bashcompdir := $(PREFIX)/share/bash-completion/completions
docdir := $(PREFIX)/share/doc/vfioguard
# Debian 12 keeps packaged units in /lib/systemd/system (debian/rules says so).
systemdunitdir ?= $(PREFIX)/lib/systemd/system
INSTALLED := $(sbindir)/vfioguard $(mandir)/man8/vfioguard.8 $(bashcompdir)/vfioguard \
	$(systemdunitdir)/vfioguard.service \
	$(patsubst docs/%,$(docdir)/%,$(wildcard docs/examples/*.yaml docs/examples/*.conf docs/prometheus/*.yml))

install: $(BUILD)/vfioguard
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(BUILD)/vfioguard $(DESTDIR)$(sbindir)/vfioguard
	$(Q)install -D -m 0644 docs/vfioguard.8 $(DESTDIR)$(mandir)/man8/vfioguard.8
	$(Q)install -D -m 0644 docs/vfioguard.bash-completion $(DESTDIR)$(bashcompdir)/vfioguard
	$(Q)install -D -m 0644 docs/vfioguard.service $(DESTDIR)$(systemdunitdir)/vfioguard.service
	$(Q)install -d $(DESTDIR)$(docdir)/examples
	$(Q)install -m 0644 docs/examples/*.yaml docs/examples/*.conf $(DESTDIR)$(docdir)/examples/
	$(Q)install -d $(DESTDIR)$(docdir)/prometheus
	$(Q)install -m 0644 docs/prometheus/*.yml $(DESTDIR)$(docdir)/prometheus/

uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(docdir)/examples $(DESTDIR)$(docdir)/prometheus $(DESTDIR)$(docdir) \
		2>/dev/null || true

# make deb: the Debian package, built by dpkg-buildpackage from a copy of this tree in
# $(BUILD)/deb (the package and its .changes land there), then checked by lintian.
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
deb:
	$(call msg,DEB,$(BUILD)/deb/vfioguard_$(VERSION)_$(DEB_ARCH).deb)
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/vfioguard-$(VERSION)
	$(Q)tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C $(BUILD)/deb/vfioguard-$(VERSION)
	$(Q)cd $(BUILD)/deb/vfioguard-$(VERSION) && dpkg-buildpackage -b -us -uc \
		> ../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	$(Q)lintian --fail-on error --info $(BUILD)/deb/vfioguard_$(VERSION)_$(DEB_ARCH).changes

clean:
	rm -rf $(BUILD)/obj $(BUILD)/tests $(BUILD)/*.o $(BUILD)/*.skel.h $(BUILD)/*.lskel.h $(BUILD)/vmlinux.h \
		$(BUILD)/vfioguard $(BUILD)/vfg-testvmm

-include $(OBJS:.o=.d) $(BPF_OBJS:.o=.d) $(UNIT_TESTS:=.d)
