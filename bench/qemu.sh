#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/qemu: what the qemu profile adds to QEMU's own work, as ratios in the same run. Real QEMU
# (qtest, no guest CPU) with ivshmem BAR2 passed through and an emulated legacy virtio-blk:
#   access  ACCESSES qtest memsets of 4 KiB into BAR2 and reads of 4 KiB out of it: QEMU's
#           memory core splits each into 512 accesses of 8 bytes, each one call of the
#           RAM-device handlers (the copies vfioguard reports, 2 x 512 x ACCESSES of them)
#   dma     BATCHES batches of 64 virtio-blk write requests with their data in guest RAM: three
#           DMA maps and unmaps per request (header, data, status), none of device memory
# each timed with:
#   none       unwatched
#   trace      QEMU's own trace events for the same work, log backend, to a file: access:
#              memory_region_ram_device_read/_write; dma: virtqueue_pop and virtqueue_fill
#              (QEMU has no trace event on address_space_map; dma_map_wait covers only the
#              block DMA helpers)
#   vfioguard  monitor --copies --pid QEMU (handlers, DMA map/unmap, memory_region_ref)
# Runs in the test guest: make bench-qemu, or tests/vm/run bench/qemu.sh [--runs R]
# [--accesses N] [--batches B]
set -eu
. "${VFG_TOP:?run it with tests/vm/run}/bench/lib.sh"
runs=3 accesses=100 batches=20
bench_args "qemu.sh [--runs R] [--accesses N] [--batches B]" runs accesses batches -- "$@"
VFG_TESTS=$VFG_TOP/tests/guest
. "$VFG_TESTS/lib.sh"
out=${VM_OUT:-/tmp}/bench-qemu.txt
export VFIOGUARD_CACHE_DIR=/tmp/bench-cache
cd /tmp

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# answers N: until qtest has answered N commands (no limit: a watched QEMU under emulation is
# slow, and the run is timed by tests/vm/run).
answers() {
	while [ "$(grep -c '^OK' qtest.out)" -lt "$1" ]; do
		kill -0 $QEMU_PID 2>/dev/null || { echo "QEMU exited: $(cat qemu.err)" >&2; exit 1; }
		sleep 0.05
	done
}

# 64 requests per batch: request r is descriptors 3r (header), 3r + 1 (512 bytes at DATA + 512r)
# and 3r + 2 (status byte), each batch the same 64 heads in the next 64 avail slots.
HDR=$((VQ_RAM + 0x200000)) STATUS=$((VQ_RAM + 0x201000)) DATA=$((VQ_RAM + 0x300000))
setup_requests() {
	r=0
	while [ $r -lt 64 ]; do
		printf '%s\n' "writel $(hexa "$HDR + 16 * $r") 1" "writeq $(hexa "$HDR + 16 * $r + 8") $r" >&3
		vq_desc $((3 * r)) $((HDR + 16 * r)) 16 1 $((3 * r + 1))
		vq_desc $((3 * r + 1)) $((DATA + 512 * r)) 512 1 $((3 * r + 2))
		vq_desc $((3 * r + 2)) $((STATUS + r)) 1 2 0
		QTEST_SENT=$((QTEST_SENT + 2))
		r=$((r + 1))
	done
	s=0
	while [ $s -lt $VQ_SIZE ]; do
		printf 'writew %s %s\n' "$(hexa "$VQ_AVAIL + 4 + 2 * $s")" $((3 * (s % 64))) >&3
		s=$((s + 1))
	done
	QTEST_SENT=$((QTEST_SENT + VQ_SIZE))
	answers $QTEST_SENT
}

# run_with MODE WORKLOAD: appends the workload's milliseconds to all.WORKLOAD.MODE.
run_with() {
	mode=$1 work=$2 tool=
	rm -f disk.img trace.log
	dd if=/dev/zero of=disk.img bs=1M count=2 2>/dev/null
	QEMU_EXTRA=
	# shellcheck disable=SC2034 # start_virtio_qemu reads it
	if [ $mode = trace ]; then
		case $work in
		access) QEMU_EXTRA="-trace memory_region_ram_device_read -trace memory_region_ram_device_write" ;;
		dma) QEMU_EXTRA="-trace virtqueue_pop -trace virtqueue_fill" ;;
		esac
		QEMU_EXTRA="$QEMU_EXTRA -D /tmp/trace.log"
	fi
	start_virtio_qemu disk.img
	if [ $mode = vfioguard ]; then
		# Without -v: each RAM-device access is a clean copy, counted, not printed.
		vfioguard -j monitor --copies --pid $QEMU_PID > tool.out 2> tool.err &
		tool=$!
		n=0
		# Attached: the kernel lists the tool's six uprobes (two handlers, map entry and
		# return, memory_region_ref, unmap).
		until [ "$(bpftool perf show 2>/dev/null | grep -cE "^pid $tool .*u(ret)?probe")" -ge 6 ]; do
			kill -0 $tool 2>/dev/null || { echo "vfioguard exited: $(cat tool.err)" >&2; exit 1; }
			n=$((n + 1)); [ $n -lt 1200 ] || { echo "vfioguard did not attach" >&2; exit 1; }
			sleep 0.1
		done
		sleep 1
	fi
	[ $work = access ] || setup_requests
	t0=$(now_ms)
	if [ $work = access ]; then
		i=0
		while [ $i -lt $accesses ]; do
			printf '%s\n' "memset $(hexa "$BAR2_GPA + 4096 * ($i % 16)") 4096 0x$((i % 10))5" \
				"read $(hexa "$BAR2_GPA + 4096 * ($i % 16)") 4096" >&3
			i=$((i + 1))
		done
		QTEST_SENT=$((QTEST_SENT + 2 * accesses))
		answers $QTEST_SENT
	else
		b=1
		while [ $b -le $batches ]; do
			printf 'writew %s %s\n' "$(hexa $VQ_AVAIL + 2)" $(((64 * b) & 0xffff)) >&3
			vq_out w 0x10 0
			QTEST_SENT=$((QTEST_SENT + 2))
			# The used index, until the batch has completed.
			while :; do
				printf 'readw %s\n' "$(hexa $VQ_USED + 2)" >&3
				QTEST_SENT=$((QTEST_SENT + 1))
				answers $QTEST_SENT
				[ $(qtest_last) -ne $(((64 * b) & 0xffff)) ] || break
				grep -q 'virtio:' qemu.err && { echo "virtio error: $(cat qemu.err)" >&2; exit 1; }
			done
			b=$((b + 1))
		done
	fi
	t1=$(now_ms)
	echo $((t1 - t0)) >> all.$work.$mode
	stop_qemu
	if [ -n "$tool" ]; then
		kill -INT $tool; wait $tool || true
		tail -1 tool.out | jq -cM "[.copies.targets[] | {target, hits, device}]" >&2
	fi
	[ $mode != trace ] || echo "$work trace: $(wc -l < trace.log) lines" >&2
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

rm -f all.*
i=0
while [ $i -lt $runs ]; do
	for work in access dma; do
		for mode in none trace vfioguard; do run_with $mode $work; done
	done
	i=$((i + 1))
done
{
	echo "$($QEMU_BIN --version | head -1), $(uname -m), median of $runs runs, ms per workload"
	echo "access: $accesses x (4 KiB memset + 4 KiB read) of BAR2 = $((1024 * accesses)) RAM-device accesses"
	echo "dma:    $batches x 64 virtio-blk requests in RAM = $((3 * 64 * batches)) DMA maps"
	printf '%-8s %8s %8s %10s %10s %12s %12s\n' workload none trace vfioguard \
		"trace x" "vfioguard x" "vfg/trace"
	for work in access dma; do
		n=$(median < all.$work.none) t=$(median < all.$work.trace)
		v=$(median < all.$work.vfioguard)
		printf '%-8s %8s %8s %10s %10s %12s %12s\n' $work $n $t $v \
			$(awk "BEGIN { printf \"%.2f %.2f %.2f\", $t / $n, $v / $n, $v / $t }")
	done
	echo "x: the workload's time over unwatched; vfg/trace: vfioguard's over QEMU's own tracing."
} | tee "$out"
