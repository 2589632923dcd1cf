#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/monitor: what vfioguard monitor's probes add to a VFIO mmap + fault + munmap loop and to
# a loop of 4-byte reads through the device fd, as ratios against the same loop with no monitor,
# in the same run: counted in the kernel (the default: fexit alone on the fault and fd paths),
# an event per access (--accesses, fentry/fexit) and the kprobe fallback (--kprobes, counted),
# and the floor of the kernel's mechanism: empty bpftrace programs on the same functions, in the
# same attach forms as the counted mode (what any fentry/fexit tool pays before doing anything).
# Where the counted mode's time goes: each loop's own CPU time (its system part runs the BPF
# programs), the monitor's CPU time over the loop, and a quiet run (counted, every line filtered
# out by --comm: the same events read, none printed), and each program's kernel run time per run
# in one more counted run (the kernel's BPF statistics).
# Runs in the test guest:
#   make bench-monitor, or tests/vm/run bench/monitor.sh [--runs R] [--mmaps N] [--reads N]
set -eu
EDU=0000:00:03.0
. "${VFG_TOP:?run it with tests/vm/run}/bench/lib.sh"
runs=5 mmaps=20000 reads=200000
bench_args "monitor.sh [--runs R] [--mmaps N] [--reads N]" runs mmaps reads -- "$@"
out=${VM_OUT:-/tmp}/bench-monitor.txt
cd /tmp

now_ns() { date +%s%N; }
loop_mmap() { vfg-testvmm open $EDU mmaploop $mmaps $EDU bar0; }
loop_read() { vfg-testvmm open $EDU preadn $reads $EDU bar0 0 4; }

start_mon() {
	rm -f mon.out
	vfioguard -j monitor "$@" > mon.out 2>/dev/null &
	mon=$!
	while [ ! -s mon.out ]; do sleep 0.1; done
	sleep 1
}
stop_mon() { kill -INT $mon; wait $mon || true; mon=; }

# The hooks the counted mode attaches on this kernel, as bpftrace probes with empty bodies:
# fentry+fexit on the mmap (it reports mappings), fexit on the fault and on the fd read, fentry
# on the end of a VMA.
hook() { bpftrace -l "$1" 2>/dev/null | grep -q . && echo "$1 {}" || true; }
empty_mmap=$(hook kfunc:vfio:vfio_device_fops_mmap; hook kretfunc:vfio:vfio_device_fops_mmap
	hook kretfunc:vfio_pci_core:vfio_pci_mmap_fault
	hook kretfunc:vfio_pci_core:vfio_pci_mmap_huge_fault
	hook kfunc:vmlinux:vm_area_free; hook kfunc:vmlinux:__vm_area_free)
empty_read=$(hook kretfunc:vfio:vfio_device_fops_read)
[ -n "$empty_read" ] || { echo "bench/monitor: bpftrace sees no vfio_device_fops_read" >&2; exit 1; }
echo "empty programs: mmap loop:" $empty_mmap "; read loop:" $empty_read
start_empty() {
	rm -f bt.out
	bpftrace -e "$1" > bt.out 2>&1 &
	bt=$!
	while ! grep -q '^Attaching' bt.out; do
		kill -0 $bt 2>/dev/null || { cat bt.out >&2; exit 1; }
		sleep 0.1
	done
	sleep 1
}
stop_empty() { kill -INT $bt; wait $bt || true; }

HZ=$(getconf CLK_TCK)
# cpu_ms PID: the CPU time (user + system) of PID so far, in ms.
cpu_ms() { set -- $(cat /proc/$1/stat); echo $(((${14} + ${15}) * 1000 / HZ)); }
# time_ms CMD: one timed run, in ms. Also appends to cpu.loop the CPU time of CMD (its own
# system time is where the BPF programs run) and, while a monitor runs, to cpu.mon that of the
# monitor over the same span (user space reading and printing the events).
time_ms() {
	[ -z "${mon:-}" ] || m0=$(cpu_ms $mon)
	t0=$(now_ns)
	# In a subshell whose only child is CMD; read (a builtin) opens the subshell's own stat.
	("$@" > /dev/null; read -r st < /proc/self/stat; echo "$st" > loop.stat)
	t1=$(now_ns)
	set -- $(cat loop.stat)
	echo $(((${16} + ${17}) * 1000 / HZ)) >> cpu.loop
	# The monitor's reading once it has read what the loop left in the ring (it polls every
	# 100 ms and is woken only when a quarter of the ring waits).
	[ -z "${mon:-}" ] || { sleep 0.5; echo $(($(cpu_ms $mon) - m0)) >> cpu.mon; }
	echo $(((t1 - t0) / 1000000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-24s %8s %9s %11s %10s %10s %8s %9s %9s %9s %9s\n' loop "base ms" "empty ms" \
	"counted ms" "events ms" "kprobe ms" "empty x" "counted x" "events x" "kprobe x" \
	"c/empty" | tee "$out"
ratio() { awk -v a=$1 -v b=$2 'BEGIN { printf "%.2f", a / b }'; }
: > cpu.table
for loop in loop_mmap loop_read; do
	: > base; : > empty; : > counted; : > events; : > kprobe
	: > quiet
	for v in base empty counted quiet events; do : > cpu.$v; done
	case $loop in loop_mmap) progs=$empty_mmap ;; *) progs=$empty_read ;; esac
	i=0
	# Interleaved, so that drift of a noisy machine hits all four alike.
	while [ $i -lt $runs ]; do
		: > cpu.loop; : > cpu.mon
		time_ms $loop >> base
		start_empty "$progs"; time_ms $loop >> empty; stop_empty
		start_mon; time_ms $loop >> counted; stop_mon
		# The same events into the model, none printed (no process has that name).
		start_mon --comm vfg-bench-none; time_ms $loop >> quiet; stop_mon
		start_mon --accesses; time_ms $loop >> events; stop_mon
		# cpu.loop: base, empty, counted, quiet, events; cpu.mon: counted, quiet, events.
		{ read lb; read lz; read lc; read lq; read le; } < cpu.loop
		{ read mc; read mq; read me; } < cpu.mon
		echo $lb >> cpu.base; echo $lz >> cpu.empty
		echo "$lc $mc" >> cpu.counted; echo "$lq $mq" >> cpu.quiet; echo "$le $me" >> cpu.events
		start_mon --kprobes; time_ms $loop >> kprobe; stop_mon
		i=$((i + 1))
	done
	b=$(median < base) z=$(median < empty) c=$(median < counted) e=$(median < events)
	k=$(median < kprobe)
	case $loop in loop_mmap) what="$mmaps x mmap+fault+munmap" ;; *) what="$reads x pread 4B" ;; esac
	printf '%-24s %8s %9s %11s %10s %10s %8s %9s %9s %9s %9s\n' "$what" $b $z $c $e $k \
		"$(ratio $z $b)" "$(ratio $c $b)" "$(ratio $e $b)" "$(ratio $k $b)" \
		"$(ratio $c $z)" | tee -a "$out"
	# Where the time goes: the loop's own CPU (its system time runs the BPF programs) and the
	# monitor's over the same span.
	col() { cut -d' ' -f$2 cpu.$1 | median; }
	printf '%-24s %8s %9s %11s %10s %10s %10s %10s %10s %10s\n' "  $what" \
		$(median < cpu.base) $(median < cpu.empty) $(col counted 1) $(col quiet 1) \
		$(col events 1) $(col counted 2) $(col quiet 2) $(col events 2) \
		"$(ratio $(median < quiet) $z)" >> cpu.table
done
echo "CPU ms: the loop's own (its system time runs the BPF programs), the monitor's over the loop" |
	tee -a "$out"
echo "(quiet: counted, every line filtered out by --comm: the same events read, none printed)" |
	tee -a "$out"
printf '%-24s %8s %9s %11s %10s %10s %10s %10s %10s %10s\n' "" "base" "empty" "counted" \
	"quiet" "events" "mon c" "mon q" "mon e" "q/empty" | tee -a "$out"
tee -a "$out" < cpu.table
rm -f cpu.table
echo "(median of $runs interleaved runs; x = watched / unwatched; c/empty = counted / empty"
echo " programs on the same hooks; all in the same boot)"

# Where the counted mode's kernel time goes, program by program: one more counted run of each
# loop with the kernel's BPF run-time statistics on. They add two clock reads to every program
# run, so this run is none of the timed ones above.
# prog_stats: "ID NAME RUN_TIME_NS RUN_CNT" for every program loaded.
prog_stats() {
	bpftool prog show | awk '/^[0-9]+:/ { n = ""; t = 0; c = 0
		for (i = 1; i <= NF; i++) {
			if ($i == "name") n = $(i + 1)
			if ($i == "run_time_ns") t = $(i + 1)
			if ($i == "run_cnt") c = $(i + 1)
		}
		if (n != "") print $1, n, t, c }' | sort
}
if command -v bpftool > /dev/null && [ -w /proc/sys/kernel/bpf_stats_enabled ]; then
	# Off again however this ends: the statistics cost every BPF program on the machine.
	trap 'echo 0 > /proc/sys/kernel/bpf_stats_enabled' EXIT
	echo 1 > /proc/sys/kernel/bpf_stats_enabled
	printf '\n%-24s %-16s %9s %12s\n' "counted, per program" program runs "us per run" | tee -a "$out"
	for loop in loop_mmap loop_read; do
		case $loop in loop_mmap) what="$mmaps x mmap+fault+munmap" ;; *) what="$reads x pread 4B" ;; esac
		start_mon
		prog_stats > stats.before
		$loop > /dev/null
		prog_stats > stats.after
		stop_mon
		join stats.before stats.after | awk -v w="$what" '$7 > $4 {
			printf "%-24s %-16s %9d %12.2f\n", w, $2, $7 - $4, ($6 - $3) / ($7 - $4) / 1000 }' |
			tee -a "$out"
	done
	echo 0 > /proc/sys/kernel/bpf_stats_enabled
	trap - EXIT
	rm -f stats.before stats.after
else
	echo "per-program statistics: no bpftool or no kernel.bpf_stats_enabled here" | tee -a "$out"
fi
