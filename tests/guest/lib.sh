# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Helpers for guest tests (sourced). A test is a shell script that exits 0 when it passes,
# 1 when it fails (after saying why with fail) and 77 when it cannot run (skip, with the reason).
set -u

EDU=0000:00:03.0
IVSHMEM=0000:00:04.0
# What the guest gives a shared read-write vfio-pci BAR mapping (pgprot_noncached), per
# architecture. x86_64: present, RW, user, accessed, NX (PAGE_SHARED) plus PCD, which Linux's
# PAT table turns into UC- (DESIGN.md). arm64 (measured on 6.12): attribute index 3,
# MT_DEVICE_nGnRnE, with PXN/UXN, shared, accessed, user, RW.
case $(uname -m) in
aarch64)
	PGPROT_BAR=0x68000000000ccf PGPROT_BAR_TABLE=0x0068000000000ccf CACHE_BAR=Device-nGnRnE
	ARCH_NAME=aarch64 ;;
*)
	PGPROT_BAR=0x8000000000000037 PGPROT_BAR_TABLE=$PGPROT_BAR CACHE_BAR=UC- ARCH_NAME=x86_64 ;;
esac
PGPROT_UC_MINUS_SHARED=$PGPROT_BAR

# The guest's kernel, as a number to compare: 6.1 -> 601, 6.12 -> 612. Tests assert what each
# kernel really does (DESIGN.md, "What the kernels teach").
KVER=$(uname -r | awk -F'[.-]' '{ print $1 * 100 + $2 }')
# arm64 6.1 (measured): the PTE also carries the shareability bits (SH = inner, 0x300; 6.12's
# Debian kernel keeps them out of the descriptor, LPA2), the same attribute index 3; and it has
# no BPF trampolines: fentry, fexit and BPF-LSM programs load but do not attach (ENOTSUPP).
TRAMPOLINES=1
if [ "$(uname -m)" = aarch64 ] && [ "$KVER" -lt 612 ]; then
	PGPROT_BAR=0x68000000000fcf PGPROT_BAR_TABLE=0x0068000000000fcf TRAMPOLINES=0
	PGPROT_UC_MINUS_SHARED=$PGPROT_BAR
fi
# vfio-pci marks its BAR mappings VM_ALLOW_ANY_UNCACHED since 6.9 (measured: 6.12 does, 6.1 does
# not, on both architectures): KVM on arm64 then gives a guest Normal-NC at stage 2, where the
# VMM's own mapping is Device; without it Device-nGnRE. x86: nothing is said (null).
ANY_UNCACHED=$([ "$KVER" -ge 612 ] && echo true || echo false)
case $ARCH_NAME/$ANY_UNCACHED in
aarch64/true) GUEST_CACHE_BAR=Normal-NC ;;
aarch64/false) GUEST_CACHE_BAR=Device-nGnRE ;;
*) GUEST_CACHE_BAR=null ;;
esac
# vfio-pci before 6.12 points vm_pgoff at the BAR's PFN; from 6.12 on it keeps the mmap offset.
PGOFF_IS_PFN=$([ "$KVER" -lt 612 ] && echo 1 || echo 0)
# The kernel's page size: 4 KiB but on the arm64-16k kernel (16 KiB), where mmap offsets and
# vm_pgoff are counted in 16 KiB pages.
PAGE_SIZE=$(awk '/^KernelPageSize:/ { print $2 * 1024; exit }' /proc/self/smaps)
PAGE_SHIFT=$(awk -v p="$PAGE_SIZE" 'BEGIN { s = 0; while (2 ^ s < p) s++; print s }')
# include/uapi/linux/vfio.h (VFIO_PCI_OFFSET_SHIFT): region index << 40 is its mmap offset.
VFIO_PCI_OFFSET_SHIFT=40

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "# $*"; }

# wait_ready FILE PID [SECONDS]: until PID has written FILE; fails if PID dies first.
wait_ready() {
	_n=$(( ${3:-60} * 10 ))
	while [ ! -s "$1" ]; do
		kill -0 "$2" 2>/dev/null || { wait "$2"; fail "process $2 exited (status $?) before it was ready"; }
		_n=$((_n - 1))
		[ $_n -gt 0 ] || fail "process $2 not ready after ${3:-60}s"
		sleep 0.1
	done
}

# wait_for PID TENTHS LOG WHAT CMD...: runs CMD every tenth of a second until it succeeds; fails
# with WHAT and LOG's text if PID exits first or after TENTHS tries.
wait_for() {
	_pid=$1 _lim=$2 _log=$3 _what=$4
	shift 4
	_n=0
	until "$@"; do
		kill -0 $_pid 2>/dev/null || fail "process $_pid exited before $_what: $(cat "$_log")"
		_n=$((_n + 1))
		[ $_n -lt $_lim ] || fail "no $_what after $((_lim / 10)) s: $(cat "$_log")"
		sleep 0.1
	done
}

# policy MODE DEFAULT [NAME ACCESS MATCH]...: a policy's text on stdout, one rule per triple
# (MATCH: the members of its match, as 'device: "$EDU", region: bar0').
policy() {
	echo "mode: $1"
	echo "default: $2"
	shift 2
	[ $# -eq 0 ] || echo "rules:"
	while [ $# -ge 3 ]; do
		printf '  - name: %s\n    match: {%s}\n    access: %s\n' "$1" "$3" "$2"
		shift 3
	done
	[ $# -eq 0 ] || fail "policy: a rule needs NAME ACCESS MATCH, got: $*"
}

# apply_policy FILE: vfioguard policy apply FILE (apply.out), which must succeed.
apply_policy() {
	vfioguard policy apply "$1" > apply.out 2>&1 || fail "apply $1: $(cat apply.out)"
}

# clear_at_exit [VAR...]: at exit (or on TERM or INT), the processes whose PIDs the named
# variables hold are ended, the policy in force is cleared and ivshmem is given back to vfio-pci
# if the test driver has it (gh100_bind).
clear_at_exit() {
	_at_exit_vars="$*"
	trap _at_exit EXIT
	trap 'exit 143' TERM INT
}
_at_exit() {
	for _v in $_at_exit_vars; do
		eval "_p=\${$_v:-}"
		[ -z "$_p" ] || kill -TERM $_p 2>/dev/null || true
	done
	vfioguard policy clear > /dev/null 2>&1 || true
	if [ -e /sys/module/vfg_gh100 ]; then
		# Its device is released only when no process holds it.
		pkill -x vfg-testvmm 2>/dev/null || true
		sleep 0.2
		gh100_unbind || true
	fi
}

# start_vmm READY ACTIONS...: runs the test VMM in the background until it is set up;
# VMM_PID is its pid. The VMM's output goes to vmm.out.
start_vmm() {
	_ready=$1; shift
	rm -f "$_ready"
	vfg-testvmm "$@" ready "$_ready" wait > vmm.out 2>&1 &
	VMM_PID=$!
	wait_ready "$_ready" $VMM_PID
}

stop() {
	for _p in "$@"; do kill "$_p" 2>/dev/null; done
	for _p in "$@"; do wait "$_p" 2>/dev/null; done
	return 0
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# jqf FILE FILTER: one value from a JSON file, raw.
jqf() { jq -r "$2" "$1"; }

# start_time PID: the process's start in clock ticks since boot, /proc/PID/stat's field 22
# (the fields after the name's closing parenthesis begin at field 3).
start_time() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20; }

# bar_start BDF INDEX: physical start of a resource, from sysfs.
bar_start() { sed -n "$(($2 + 1))p" "/sys/bus/pci/devices/$1/resource" | cut -d' ' -f1; }

# pat_memtype ADDR: the memtype the kernel's PAT tracking recorded for a physical address.
pat_memtype() {
	_f=/sys/kernel/debug/x86/pat_memtype_list
	[ -r $_f ] || { echo "no-pat-list"; return; }
	# Lines look like "PAT: [mem 0x00000000fea00000-0x00000000feb00000] uncached-minus".
	while read -r _w1 _w2 _range _type _; do
		[ "$_w1 $_w2" = "PAT: [mem" ] || continue
		_s=${_range%-*}; _e=${_range#*-}; _e=${_e%]}
		if [ $(($1)) -ge $((_s)) ] && [ $(($1)) -lt $((_e)) ]; then
			echo "$_type"; return
		fi
	done < $_f
	echo "not-tracked"
}

# The test driver shaped like nvgrace-gpu (tests/kmod/vfg_gh100.c, built by tests/vm/prepare):
# gh100_bind loads it and gives it ivshmem (driver_override); its regions' modes are written to
# $GH100_PARAMS/bar2_mode and bar4_mode. gh100_unbind gives ivshmem back to vfio-pci and
# unloads it, whatever state it is in (for an exit trap).
GH100_DRIVER=nvgrace_gpu_vfio_pci_test
GH100_PARAMS=/sys/module/vfg_gh100/parameters
gh100_bind() {
	_ko=$VFG_KDIR/vfg_gh100.ko
	_dev=/sys/bus/pci/devices/$IVSHMEM
	[ -f "$_ko" ] || fail "no test driver at $_ko (tests/vm/prepare builds it): $(tail -1 "$VFG_KDIR/vfg_gh100.why" 2>/dev/null)"
	insmod "$_ko" || fail "insmod $_ko failed: $(dmesg | tail -3)"
	echo $IVSHMEM > $_dev/driver/unbind
	echo $GH100_DRIVER > $_dev/driver_override
	echo $IVSHMEM > /sys/bus/pci/drivers_probe
	expect_eq "ivshmem's driver" "$(basename "$(readlink $_dev/driver)")" $GH100_DRIVER
}
gh100_unbind() {
	_dev=/sys/bus/pci/devices/$IVSHMEM
	[ ! -e /sys/bus/pci/drivers/$GH100_DRIVER/$IVSHMEM ] ||
		echo $IVSHMEM > /sys/bus/pci/drivers/$GH100_DRIVER/unbind
	echo > $_dev/driver_override
	[ -e $_dev/driver ] || echo $IVSHMEM > /sys/bus/pci/drivers_probe
	rmmod vfg_gh100 2>/dev/null
	[ "$(basename "$(readlink $_dev/driver)")" = vfio-pci ]
}

# start_monitor OUT ARGS...: vfioguard monitor -j in the background until its probes are
# attached (its first line); MON_PID is its pid. stop_monitor ends it and waits.
start_monitor() {
	_out=$1; shift
	vfioguard -j monitor "$@" > "$_out" 2> "$_out.err" &
	MON_PID=$!
	# The existing mappings follow the attach line, then a "ready" line.
	wait_for $MON_PID 600 "$_out.err" "monitor ready" grep -q '"event":"ready"' "$_out"
}

# start_serve ARGS...: vfioguard serve in the background (serve.out, serve.err) until it says it
# is watching; SV is its pid.
start_serve() {
	vfioguard serve "$@" > serve.out 2> serve.err &
	SV=$!
	wait_for $SV 1200 serve.err "serve watching" grep -q 'serve: watching' serve.err
}

# wait_attached ERRFILE PID: until monitor -v says the copy probes of PID are attached.
# wait_attached ERRFILE PID [WATCHER TENTHS]: the same for another vfioguard process (default
# MON_PID) and another limit (default 600 tenths of a second).
wait_attached() {
	wait_for ${3:-$MON_PID} ${4:-600} "$1" "copy probes of pid $2 attached" \
		grep -q "pid $2: .* probes attached" "$1"
}

# watch_copies PID [MONITOR-ARGS...]: once the test VMM PID has written "ready", monitor
# --copies --libc of it (mon.json) until its copy probes are attached.
watch_copies() {
	_vmm=$1
	shift
	wait_ready ready $_vmm
	start_monitor mon.json --copies --libc --pid $_vmm -v "$@"
	wait_attached mon.json.err $_vmm
}

# stop_monitor_expect FILE STATUS: ends the monitor, which must exit with STATUS (1: it found
# violations) after its summary line.
stop_monitor_expect() {
	kill -INT $MON_PID
	set +e; wait $MON_PID; _rc=$?; set -e
	expect_eq "monitor exit status" $_rc $2
	tail -1 "$1" | jq -e '.event == "summary"' >/dev/null || fail "no summary at the end of $1"
}

stop_monitor() {
	kill -INT $MON_PID
	wait $MON_PID || fail "monitor exited with status $?: $(cat "$1.err")"
	tail -1 "$1" | jq -e '.event == "summary"' >/dev/null || fail "no summary at the end of $1"
}

# events FILE JQ-FILTER: how many event lines match.
events() {
	# A filter jq cannot compile must not read as "0 events".
	_ev=$(jq -c "select($2)" "$1") || fail "jq cannot evaluate: select($2)"
	[ -z "$_ev" ] && echo 0 || printf '%s\n' "$_ev" | wc -l
}

# Real QEMU of the guest's architecture as the VMM (DESIGN.md, "The test guest"). Its process
# name (comm, 15 characters) and where the BAR is placed in its guest-physical space:
# x86_64: q35, config space through ports 0xcf8/0xcfc, BAR0 at 0xe0000000; arm64: virt with
# highmem=off, config space through the ECAM at 0x3f000000 (device 2: +2 << 15), BAR0 at
# 0x10000000, the start of its PCI MMIO window (hw/arm/virt.c).
case $ARCH_NAME in
aarch64)
	QEMU_BIN=qemu-system-aarch64 QEMU_COMM=qemu-system-aar EDU_GPA=0x10000000
	QEMU_MACHINE="-machine virt,accel=tcg,highmem=off -cpu cortex-a57" QTEST_SETUP=2 ;;
*)
	QEMU_BIN=qemu-system-x86_64 QEMU_COMM=qemu-system-x86 EDU_GPA=0xe0000000
	QEMU_MACHINE="-machine q35,accel=tcg" QTEST_SETUP=4 ;;
esac

# edu_gpa OFFSET: the guest-physical address of edu BAR0 + OFFSET, for qtest commands.
edu_gpa() { printf '0x%x' $((EDU_GPA + ${1:-0})); }

# start_qemu [OPTIONS]: real QEMU as the VMM, edu passed through as
# "-device vfio-pci,host=$EDU,addr=02.0OPTIONS", no guest CPU, qtest commands on fd 3.
# QEMU_EXTRA: more QEMU options (split on blanks). QEMU_PID is its pid; stop_qemu ends it.
start_qemu() {
	rm -f qtest.in
	mkfifo qtest.in
	# shellcheck disable=SC2086
	$QEMU_BIN $QEMU_MACHINE -S -qtest stdio -display none -nodefaults \
		-device vfio-pci,host=$EDU,addr=02.0${1:-} ${QEMU_EXTRA:-} < qtest.in > qtest.out \
		2> qemu.err &
	QEMU_PID=$!
	exec 3> qtest.in
}

# qtest_edu_bar0: places edu's BAR0 at EDU_GPA and enables memory decoding; QTEST_SETUP is how
# many qtest answers that takes.
qtest_edu_bar0() {
	case $ARCH_NAME in
	aarch64)
		printf '%s\n' "writel 0x3f010010 $EDU_GPA" 'writew 0x3f010004 6' >&3 ;;
	*)
		printf '%s\n' 'outl 0xcf8 0x80001010' "outl 0xcfc $EDU_GPA" 'outl 0xcf8 0x80001004' \
			'outw 0xcfc 6' >&3 ;;
	esac
}

# qtest_wait N: until qtest has answered N commands.
qtest_wait() {
	_n=0
	while [ "$(grep -c '^OK' qtest.out 2>/dev/null)" -lt "$1" ]; do
		kill -0 $QEMU_PID 2>/dev/null || fail "QEMU exited: $(cat qemu.err)"
		_n=$((_n + 1)); [ $_n -lt 600 ] || fail "qtest did not answer: $(cat qtest.out)"
		sleep 0.1
	done
}

# qtest_edu_reg0: places edu's BAR0, enables memory decoding and reads register 0 through
# QEMU's memory core; prints the value as 0x%08x.
qtest_edu_reg0() {
	qtest_edu_bar0
	printf '%s\n' "readl $EDU_GPA" >&3
	qtest_wait $((QTEST_SETUP + 1))
	_v=$(grep '^OK 0x' qtest.out | tail -1 | cut -d' ' -f2)
	printf '0x%08x\n' $((_v))
}

stop_qemu() {
	exec 3>&-
	stop $QEMU_PID
}

# Real QEMU with ivshmem's BAR2 passed through and an emulated legacy virtio-blk (its I/O-port
# interface is the easiest to drive from qtest): DMA by an emulated device. Per architecture:
# guest RAM, where BAR2 is placed, the virtio I/O BAR, and accessors that print qtest commands
# to fd 3: vq_cfg SIZE DEV OFFSET VALUE (config space; VQ_CFG_CMDS answers each), vq_out SIZE
# OFFSET VALUE and vq_in SIZE OFFSET (the I/O BAR; one answer each).
case $ARCH_NAME in
aarch64)
	VQ_RAM=0x40000000 BAR2_GPA=0x11000000 VQ_IO=0x1000 VQ_CFG_CMDS=1
	# Config space through the ECAM; the I/O window at 0x3eff0000 (hw/arm/virt.c, highmem=off).
	vq_cfg() { printf 'write%s 0x%x %s\n' $1 $((0x3f000000 + ($2 << 15) + $3)) $4 >&3; }
	vq_out() { printf 'write%s 0x%x %s\n' $1 $((0x3eff0000 + VQ_IO + $2)) $3 >&3; }
	vq_in() { printf 'read%s 0x%x\n' $1 $((0x3eff0000 + VQ_IO + $2)) >&3; } ;;
*)
	VQ_RAM=0 BAR2_GPA=0xe1000000 VQ_IO=0xc000 VQ_CFG_CMDS=2
	vq_cfg() {
		printf 'outl 0xcf8 0x%x\n' $((0x80000000 | ($2 << 11) | ($3 & ~3))) >&3
		case $1 in
		l) printf 'outl 0xcfc %s\n' $4 >&3 ;;
		w) printf 'outw 0x%x %s\n' $((0xcfc + ($3 & 3))) $4 >&3 ;;
		esac
	}
	vq_out() { printf 'out%s 0x%x %s\n' $1 $((VQ_IO + $2)) $3 >&3; }
	vq_in() { printf 'in%s 0x%x\n' $1 $((VQ_IO + $2)) >&3; } ;;
esac
# Queue 0's rings, in guest RAM.
VQ_VRING=$((VQ_RAM + 0x100000))
hexa() { printf '0x%x' $(($*)); }
# qtest_last: the value of qtest's last answer.
qtest_last() { echo $(($(grep '^OK' qtest.out | tail -1 | cut -d' ' -f2))); }

# start_virtio_qemu DISK: that QEMU (QEMU_EXTRA: more options), qtest commands on fd 3, QEMU_PID
# its pid; BAR2 at BAR2_GPA and the virtio I/O BAR at VQ_IO with decoding and bus mastering on,
# the device reset and driven (no features), queue 0 at VQ_VRING. Sets VQ_SIZE (queue 0's size),
# VQ_AVAIL and VQ_USED (its rings) and QTEST_SENT (the answers qtest owes so far).
start_virtio_qemu() {
	rm -f qtest.in
	mkfifo qtest.in
	# shellcheck disable=SC2086
	$QEMU_BIN $QEMU_MACHINE -S -qtest stdio -display none -nodefaults \
		-device vfio-pci,host=$IVSHMEM,addr=02.0 -drive if=none,id=d0,file=$1,format=raw \
		-device virtio-blk-pci,drive=d0,disable-legacy=off,disable-modern=on,addr=05.0 \
		${QEMU_EXTRA:-} < qtest.in > qtest.out 2> qemu.err &
	QEMU_PID=$!
	exec 3> qtest.in
	# ivshmem BAR2 (64-bit) at BAR2_GPA; virtio's I/O BAR0 at VQ_IO.
	vq_cfg l 2 0x18 $(hexa $BAR2_GPA); vq_cfg l 2 0x1c 0; vq_cfg w 2 4 6
	vq_cfg l 5 0x10 $(hexa $VQ_IO); vq_cfg w 5 4 7
	# Legacy virtio (virtio_pci_common.h): reset, ACK|DRIVER, no features, queue 0 selected.
	vq_out b 0x12 0; vq_out b 0x12 3; vq_out l 4 0; vq_out w 0xe 0
	vq_in w 0xc
	QTEST_SENT=$((5 * VQ_CFG_CMDS + 5))
	qtest_wait $QTEST_SENT
	VQ_SIZE=$(qtest_last)
	[ $VQ_SIZE -gt 0 ] || fail "virtio queue 0 has no size: $(cat qemu.err)"
	vq_out l 8 $(hexa "$VQ_VRING >> 12"); vq_out b 0x12 7
	QTEST_SENT=$((QTEST_SENT + 2))
	VQ_AVAIL=$((VQ_VRING + 16 * VQ_SIZE))
	VQ_USED=$(((VQ_AVAIL + 6 + 2 * VQ_SIZE + 4095) & ~4095))
}

# vq_desc INDEX GPA LEN FLAGS NEXT: one descriptor of queue 0 (4 answers).
vq_desc() {
	_d=$((VQ_VRING + 16 * $1))
	printf '%s\n' "writeq $(hexa $_d) $(hexa $2)" "writel $(hexa $_d + 8) $3" \
		"writew $(hexa $_d + 12) $4" "writew $(hexa $_d + 14) $5" >&3
	QTEST_SENT=$((QTEST_SENT + 4))
}
