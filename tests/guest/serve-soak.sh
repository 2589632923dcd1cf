# vfioguard serve through 2000 VMM lifetimes: each test VMM maps ivshmem BAR2, copies into it
# with libc, renames itself (a name of raw bytes, its own), copies again, reads through the fd
# and exits. serve's resident memory stays within DESIGN.md's budget (64 MiB); its heap in use
# (the allocator's own count, vfioguard_heap_inuse_bytes) and its open files are flat over the
# second half (each table has a bound or is pruned); its exposition does not grow with the names
# processes gave themselves, and it still answers. Resident memory is a coarse measure of a leak:
# while serve held every watched process's files for stacks it never names, it stepped between
# 35 012 and 37 556 KiB over 4000 lifetimes with no trend, as the allocator kept and returned
# free memory. The curves are printed (every 200 lifetimes).
# arches: x86_64 -- 2000 process lifetimes under arm64 TCG take longer than the suite allows
# timeout: 900
. "$VFG_TESTS/lib.sh"

export VFIOGUARD_CACHE_DIR=$PWD/cache
port=19749
lifetimes=${VFG_SOAK_LIFETIMES:-2000}
policy enforce fixed ivshmem-bar2 direct "device: \"$IVSHMEM\", region: bar2" > p.yaml
clear_at_exit SV

start_serve --policy "$PWD/p.yaml" --listen 127.0.0.1:$port --interval 1 --libc
rss() { awk '$1 == "VmRSS:" { print $2 }' /proc/$SV/status; }
fds() { ls /proc/$SV/fd | wc -l; }
heap() { awk '$1 == "vfioguard_heap_inuse_bytes" { print $2 }' "$1"; }
scrape() { busybox wget -q -O "$1" "http://127.0.0.1:$port/metrics" || fail "scrape failed"; }

# One VMM's life. Its name: "v", 0xff, then its number's decimal digits (built without a fork).
# Every tenth waits for its copy probes (attached from its open), so that its copies are seen;
# the others copy whether or not the probes are there yet. (VMMs run one at a time: a second
# process opening the group gets EBUSY.)
life() {
	name=76ff n=$1
	while [ -n "$n" ]; do
		name=${name}3${n%"${n#?}"} n=${n#?}
	done
	set -- map $IVSHMEM bar2 copy 0 0 64 memcpy name $name copy 0 64 64 memcpy \
		preadn 2 $IVSHMEM bar2 0 4
	if [ $((i % 10)) -ne 0 ]; then
		vfg-testvmm open $IVSHMEM "$@" > vmm.out 2>&1 || fail "lifetime $i: $(cat vmm.out)"
		return
	fi
	rm -f ready go
	vfg-testvmm open $IVSHMEM ready ready waitfile go "$@" > vmm.out 2>&1 &
	vmm=$!
	wait_ready ready $vmm
	wait_attached serve.err $vmm $SV
	touch go
	wait $vmm || fail "lifetime $i: $(cat vmm.out)"
}

t0=$(date +%s)
curve="" heaps="" fdc="" mid=0 mid_rss=0 mid_fds=0
i=1
while [ $i -le $lifetimes ]; do
	life $i
	if [ $((i % 200)) -eq 0 ]; then
		# A scrape prunes (exited processes, unmapped mappings) as the metrics timer does.
		scrape s.txt
		r=$(rss) h=$(heap s.txt) f=$(fds)
		[ -n "$h" ] || fail "no vfioguard_heap_inuse_bytes in the exposition"
		curve="$curve $i:$r" heaps="$heaps $i:$h" fdc="$fdc $i:$f"
		# The first half's highest (the heap's samples step by ±100 KiB once the tables are
		# full), and the lowest of the last three: a leak raises the floor, noise the peaks.
		if [ $i -le $((lifetimes / 2)) ]; then
			[ "$h" -le "$mid" ] || mid=$h
			[ "$r" -le "$mid_rss" ] || mid_rss=$r
			[ "$f" -le "$mid_fds" ] || mid_fds=$f
			mid_series=$(grep -vc '^#' s.txt)
		fi
		floor=$h
		for x in ${p1:-} ${p2:-}; do [ "$x" -ge "$floor" ] || floor=$x; done
		p2=${p1:-} p1=$h
	fi
	i=$((i + 1))
done
sleep 2
scrape end.txt
end_rss=$(rss) end_fds=$(fds)
end=$(heap end.txt)
end_series=$(grep -vc '^#' end.txt)
note "$lifetimes lifetimes in $(($(date +%s) - t0)) s; VmRSS (KiB) after N lifetimes:$curve"
note "heap in use (bytes) after N lifetimes:$heaps; at the end $end"
note "open files after N lifetimes:$fdc; at the end $end_fds"
note "series: $mid_series at half, $end_series at the end"
note "serve's log: $(wc -l < serve.err) lines; $(grep -c 'probes attached' serve.err) with probes attached"

[ "$mid" -gt 0 ] || fail "no sample in the first half: $lifetimes lifetimes are too few (400 at least)"
[ "$end_rss" -lt $((64 * 1024)) ] ||
	fail "serve's VmRSS is $end_rss KiB, over the 64 MiB budget (curve:$curve)"
[ -n "$end" ] || fail "no vfioguard_heap_inuse_bytes in the exposition"
# Flat over the second half: the last three samples' lowest at most 256 KiB more in use than
# the first half's highest (a leak of 0.4 KiB a lifetime; the one these bounds fixed leaked
# 7 KiB); open files at most 8 more (probes, rings, files held for names); resident memory,
# which the heap does not count all of (libraries' and libbpf's mappings), at most 8 MiB more.
[ "$floor" -le $((mid + 256 * 1024)) ] ||
	fail "serve's heap in use grew from $mid (the first half's highest) to $floor bytes at least (curve:$heaps)"
[ "$end_fds" -le $((mid_fds + 8)) ] ||
	fail "serve's open files grew from $mid_fds (the first half's most) to $end_fds (curve:$fdc)"
[ "$end_rss" -le $((mid_rss + 8192)) ] ||
	fail "serve's VmRSS grew from $mid_rss (the first half's highest) to $end_rss KiB (curve:$curve)"
[ "$end_series" -le $((mid_series + 8)) ] ||
	fail "the exposition grew from $mid_series to $end_series series over the second half"
# Every lifetime was seen: the kernel counted every allowed mmap.
allowed=$(awk '$1 == "vfioguard_mmap_decisions_total{decision=\"allowed\",rule=\"ivshmem-bar2\"}" { print $2 }' end.txt)
expect_eq "allowed mmaps counted" "$allowed" "$lifetimes"
# The copies of every tenth VMM at least (two each), and every fd read of BAR2, were counted,
# however the processes named themselves.
copies=$(awk '/^vfioguard_copies_total\{/ { s += $2 } END { print s + 0 }' end.txt)
[ "$copies" -ge $((lifetimes / 5)) ] ||
	fail "$copies copies counted, want $((lifetimes / 5)) at least: $(grep '^vfioguard_copies' end.txt)"
reads=$(awk '/^vfioguard_fd_accesses_total\{/ && /region="BAR2"/ && /direction="read"/ { s += $2 } END { print s + 0 }' end.txt)
expect_eq "fd reads counted" "$reads" $((lifetimes * 2))
note "copies counted: $copies"
