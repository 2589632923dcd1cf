#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/copies: the cost of watching a process's libc memcpy, per call, as ratios in the same
# run. A loop of COUNT memcpys of LEN bytes into ordinary memory (what every VMM does all the
# time) and into ivshmem's BAR2 (device memory: the calls vfioguard reports) is timed with:
#   none       no probe
#   empty      the same uprobe with an empty program (bpftrace '{}'): the unavoidable trap
#   bpftrace   a bpftrace one-liner doing the same filtering (is dst or src in the BAR mapping?)
#   vfioguard  monitor --copies --libc: bpf_find_vma on dst and src, hazard lookup, event + stack
# Runs in the test guest: make bench-copies, or tests/vm/run bench/copies.sh [--runs R]
# [--count N] [--len L]
set -eu
IVSHMEM=0000:00:04.0
. "${VFG_TOP:?run it with tests/vm/run}/bench/lib.sh"
runs=3 count=20000 len=64
bench_args "copies.sh [--runs R] [--count N] [--len L]" runs count len -- "$@"
command -v bpftrace > /dev/null || { echo "bench/copies: bpftrace is not installed" >&2; exit 2; }
out=${VM_OUT:-/tmp}/bench-copies.txt
export VFIOGUARD_CACHE_DIR=/tmp/bench-cache
cd /tmp

# start_vmm: a test VMM with BAR2 mapped, waiting for "go"; VMM is its pid, START/END the mapping.
start_vmm() {
	rm -f ready go vmm.out
	vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 ready ready waitfile go \
		loop ram $count $len loop 0 $count $len > vmm.out 2>&1 &
	VMM=$!
	while [ ! -s ready ]; do sleep 0.1; done
	START=$(awk '/^map 0 /{print $5}' vmm.out)
	SIZE=$(awk '/^map 0 /{print $6}' vmm.out)
	LIBC=$(awk '/libc.so/ && $3 == "00000000" {print $6; exit}' /proc/$VMM/maps)
}

# The libc memcpy this process calls: where vfioguard probes it (its first target).
probe_offset() {
	vfioguard -j monitor --copies --libc --pid $VMM --duration 1 2>/dev/null |
		tail -1 | jq -r '.copies.targets[] | select(.target | contains("memcpy")) | .offset'
}

run_with() {
	mode=$1
	start_vmm
	case $mode in
	none) tool= ;;
	# --unsafe: libc's memcpy variants are local symbols a stripped libc does not list, and
	# bpftrace refuses an address it cannot place in a symbol (arm64) unless told it may.
	empty)
		bpftrace --unsafe -p $VMM -e "uprobe:$LIBC:$OFF { }" > tool.out 2>&1 & tool=$! ;;
	bpftrace)
		bpftrace --unsafe -p $VMM -e "uprobe:$LIBC:$OFF {
			if ((arg0 >= $START && arg0 < $START + $SIZE) ||
			    (arg1 >= $START && arg1 < $START + $SIZE)) { @device = count(); } }" \
			> tool.out 2>&1 & tool=$! ;;
	vfioguard)
		vfioguard -j monitor --copies --libc --pid $VMM > tool.out 2>/dev/null & tool=$! ;;
	esac
	# Attached: the kernel lists the tool's uprobe on memcpy (what the tools print comes before
	# their probes are in place: seconds before under arm64 emulation); then a margin.
	if [ -n "$tool" ]; then
		n=0
		until bpftool perf show 2>/dev/null | grep "^pid $tool " | grep -q "uprobe .* offset $((OFF))\$"; do
			kill -0 $tool 2>/dev/null || { echo "$mode exited: $(cat tool.out)" >&2; exit 1; }
			n=$((n + 1)); [ $n -lt 1200 ] || { echo "$mode did not attach: $(cat tool.out)" >&2; exit 1; }
			sleep 0.1
		done
		sleep 1
	fi
	touch go
	wait $VMM
	# bpftrace -p ends by itself when the process it watches has exited.
	[ -z "$tool" ] || { kill -INT $tool 2>/dev/null || true; wait $tool || true; }
	# How vfioguard's probe answered the calls: every ram call outside the VFIO spans.
	[ $mode != vfioguard ] || tail -1 tool.out | jq -cM '.copies.targets[] |
		select(.target | contains("memcpy")) | {hits, device, outside_spans}' >&2
	awk '/^loop ram /{print $5 > "ram.'$mode'"} /^loop 0 /{print $5 > "dev.'$mode'"}' vmm.out
	cat ram.$mode >> all.ram.$mode
	cat dev.$mode >> all.dev.$mode
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

start_vmm
OFF=$(probe_offset)
kill $VMM; wait $VMM 2>/dev/null || true
[ -n "$OFF" ] || { echo "bench/copies: cannot find the probed memcpy" >&2; exit 1; }
rm -f all.*
i=0
while [ $i -lt $runs ]; do
	for mode in none empty bpftrace vfioguard; do run_with $mode; done
	i=$((i + 1))
done
{
	echo "memcpy of $len bytes, $count calls per loop, median of $runs runs, ns per call"
	printf '%-8s %10s %10s %10s %10s %12s %12s %12s\n' loop none empty bpftrace vfioguard \
		"vfg/empty" "vfg/bpftrace" "vfg/none"
	for where in ram dev; do
		n=$(median < all.$where.none) e=$(median < all.$where.empty)
		b=$(median < all.$where.bpftrace) v=$(median < all.$where.vfioguard)
		# Per-hit cost over the unprobed call, then the ratios of those costs.
		printf '%-8s %10s %10s %10s %10s %12s %12s %12s\n' $where $n $e $b $v \
			$(awk "BEGIN { printf \"%.2f %.2f %.2f\", ($v - $n) / ($e - $n), ($v - $n) / ($b - $n), $v / $n }")
	done
	echo "vfg/empty and vfg/bpftrace compare the probe's added cost per call; vfg/none is the slowdown."
} | tee "$out"
