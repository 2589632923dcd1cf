#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/audit: vfioguard audit against N processes with M VFIO mappings each (NxM), or on a
# realistic host (hostN: N ordinary processes with about 100 mappings each, none of them VFIO,
# plus one VMM with 4 VFIO mappings), next to the scan a user would script today (read every
# /proc/*/maps and match vfio-device), in the same run.
# Runs inside the test guest: make bench, or tests/vm/run bench/audit.sh [NxM|hostN ...] [--runs R].
# Reports the median of R runs of each and the ratio naive/audit (above 1: audit is faster).
set -eu
IVSHMEM=0000:00:04.0
runs=5
sizes=
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	*x*|host*) sizes="$sizes $1"; shift ;;
	*) echo "usage: audit.sh [NxM|hostN ...] [--runs R]" >&2; exit 2 ;;
	esac
done
sizes=${sizes:-host1000 1x1 10x10 100x10 100x100 1000x10 1000x100}
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

printf '%-10s %9s %9s %12s %12s %12s %8s %8s\n' "size" "VMAs" "mappings" "audit ms" \
	"audit -j ms" "naive ms" "ratio" "ratio-j" | tee "$out"
for s in $sizes; do
	rm -f ready
	case $s in
	host*)
		# 1000 ordinary processes: 40 anonymous pages apart make about 100 VMAs each.
		n=${s#host} m=4
		vfg-testvmm anon 40 fork "$n" ready ready wait > plain.out 2>&1 &
		plain=$!
		vfg-testvmm open $IVSHMEM mapn $m $IVSHMEM bar2 0 0x1000 ready ready wait \
			> vmm.out 2>&1 &
		vmm=$!
		n=$((n + 1)) expect=$m ;;
	*)
		n=${s%x*} m=${s#*x} plain=
		vfg-testvmm open $IVSHMEM fork $n mapn $m $IVSHMEM bar2 0 0x1000 ready ready wait \
			> vmm.out 2>&1 &
		vmm=$!
		expect=$((n * m)) ;;
	esac
	w=0
	while [ "$({ wc -l < ready; } 2>/dev/null || echo 0)" -lt $n ]; do
		kill -0 $vmm 2>/dev/null || { cat vmm.out; echo "helper died" >&2; exit 1; }
		[ -z "$plain" ] || kill -0 $plain 2>/dev/null ||
			{ cat plain.out; echo "helper died" >&2; exit 1; }
		sleep 0.2; w=$((w + 1))
		[ $w -lt 3000 ] || { echo "helper not ready after 600s" >&2; exit 1; }
	done
	found=$(vfioguard -j audit | jq '.mappings | length')
	naive_found=$(naive_scan 2>/dev/null | wc -l)
	vmas=$(cat /proc/[0-9]*/maps 2>/dev/null | wc -l)
	[ "$found" -eq $expect ] || { echo "audit found $found of $expect mappings" >&2; exit 1; }
	[ "$naive_found" -eq $expect ] ||
		echo "note: the naive scan found $naive_found of $expect (races with /proc)" >&2
	vfioguard -v audit 2>&1 >/dev/null | sed -n "s/^vfioguard: /  $s: /p" >&2
	a=$(median_ms vfioguard audit)
	j=$(median_ms vfioguard -j audit)
	g=$(median_ms naive_scan)
	printf '%-10s %9d %9d %12s %12s %12s %8s %8s\n' "$s" $vmas $found "$a" "$j" "$g" \
		"$(awk -v a="$a" -v g="$g" 'BEGIN { printf "%.2f", g / a }')" \
		"$(awk -v a="$j" -v g="$g" 'BEGIN { printf "%.2f", g / a }')" | tee -a "$out"
	pkill -x vfg-testvmm || true
	wait $vmm $plain 2>/dev/null || true
done
echo "(median of $runs runs each; ratio = naive / audit, above 1 means audit is faster)"
