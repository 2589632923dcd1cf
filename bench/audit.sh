#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/audit: vfioguard audit against N processes with M VFIO mappings each, next to the scan a
# user would script today (read every /proc/*/maps and match vfio-device), in the same run.
# Runs inside the test guest: make bench, or tests/vm/run bench/audit.sh [NxM ...] [--runs R].
# Reports the median of R runs of each and the ratio naive/audit (above 1: audit is faster).
set -eu
IVSHMEM=0000:00:04.0
runs=5
sizes=
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	*x*) sizes="$sizes $1"; shift ;;
	*) echo "usage: audit.sh [NxM ...] [--runs R]" >&2; exit 2 ;;
	esac
done
sizes=${sizes:-1x1 10x10 100x10 100x100 1000x10 1000x100}
out=${VM_OUT:-/tmp}/bench-audit.txt
cd /tmp

now_ns() { date +%s%N; }
# median_ms CMD...: median wall time of $runs runs, in milliseconds with one decimal.
median_ms() {
	i=0
	while [ $i -lt $runs ]; do
		t0=$(now_ns); "$@" > /dev/null 2>&1; t1=$(now_ns)
		echo $(((t1 - t0) / 1000))
		i=$((i + 1))
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'
}
naive_scan() { grep -H vfio-device /proc/[0-9]*/maps; }

# Ensure enough room for 1000 processes and their mappings.
echo 4194304 > /proc/sys/kernel/pid_max 2>/dev/null || true

printf '%-10s %9s %12s %12s %12s %8s %8s\n' "NxM" "mappings" "audit ms" "audit -j ms" \
	"naive ms" "ratio" "ratio-j" | tee "$out"
for s in $sizes; do
	n=${s%x*} m=${s#*x}
	rm -f ready
	vfg-testvmm open $IVSHMEM fork $n mapn $m $IVSHMEM bar2 0 0x1000 ready ready wait \
		> vmm.out 2>&1 &
	vmm=$!
	w=0
	while [ "$({ wc -l < ready; } 2>/dev/null || echo 0)" -lt $n ]; do
		kill -0 $vmm 2>/dev/null || { cat vmm.out; echo "helper died" >&2; exit 1; }
		sleep 0.2; w=$((w + 1))
		[ $w -lt 3000 ] || { echo "helper not ready after 600s" >&2; exit 1; }
	done
	found=$(vfioguard -j audit | jq '.mappings | length')
	naive_found=$(naive_scan 2>/dev/null | wc -l)
	[ "$found" -eq $((n * m)) ] || { echo "audit found $found of $((n * m)) mappings" >&2; exit 1; }
	[ "$naive_found" -eq $((n * m)) ] ||
		echo "note: the naive scan found $naive_found of $((n * m)) (races with /proc)" >&2
	a=$(median_ms vfioguard audit)
	j=$(median_ms vfioguard -j audit)
	g=$(median_ms naive_scan)
	printf '%-10s %9d %12s %12s %12s %8s %8s\n' "$s" $found "$a" "$j" "$g" \
		"$(awk -v a="$a" -v g="$g" 'BEGIN { printf "%.2f", g / a }')" \
		"$(awk -v a="$j" -v g="$g" 'BEGIN { printf "%.2f", g / a }')" | tee -a "$out"
	pkill -x vfg-testvmm || true
	wait $vmm 2>/dev/null || true
done
echo "(median of $runs runs each; ratio = naive / audit, above 1 means audit is faster)"
