# The test VMM maps edu BAR0, touches 3 pages, unmaps, maps again at the same address: monitor
# shows both mmaps with cache mode, region and range, exactly the faults the process took, the
# unmap, and keeps the two mappings apart. With fentry/fexit and with the kprobe fallback, each
# access as an event (--accesses); then counted in the kernel only (the default), where the
# summary has the same counts and no fault event is sent. Pages are the kernel's (16 KiB on
# arm64-16k, where a PMD is 32 MiB, order 11).
. "$VFG_TESTS/lib.sh"

P=$PAGE_SIZE PMD_ORDER=$((PAGE_SHIFT - 3))

for mode in fentry kprobes; do
	opt=--accesses; [ $mode = kprobes ] && opt="--accesses --kprobes"
	start_monitor mon.$mode.json $opt
	want_how=fentry/fexit; [ $mode = kprobes ] && want_how=kprobe/kretprobe
	if [ $mode = fentry ] && [ $TRAMPOLINES = 0 ]; then
		# arm64 6.1: fentry loads but does not attach; monitor says so and uses kprobes.
		want_how=kprobe/kretprobe
		expect_eq "$mode: why kprobes" "$(head -1 mon.$mode.json | jq -r .fentry)" \
			"fentry/fexit: attach failed: not supported by this kernel (ENOTSUPP)"
	fi
	expect_eq "$mode: mmap hook" "$(head -1 mon.$mode.json | jq -r '.hooks[] | select(.hook == "mmap") | .how')" $want_how
	expect_eq "$mode: fault hook attached" "$(head -1 mon.$mode.json | jq -r '.hooks[] | select(.hook == "fault") | .attached')" true

	vfg-testvmm open $EDU map $EDU bar0 touch 0 0 $((3 * P)) unmap 0 map $EDU bar0 touch 1 0 $P \
		> vmm.$mode.out 2>&1 || fail "test VMM failed: $(cat vmm.$mode.out)"
	stop_monitor mon.$mode.json
	m=mon.$mode.json
	pid=$(jq -r 'select(.event == "mmap") | .pid' $m | head -1)
	[ -n "$pid" ] || fail "$mode: no mmap event: $(cat $m)"

	a1=$(awk '/^map 0 /{print $5}' vmm.$mode.out)
	a2=$(awk '/^map 1 /{print $5}' vmm.$mode.out)
	f1=$(awk '/^touch 0 /{print $NF}' vmm.$mode.out)
	f2=$(awk '/^touch 1 /{print $NF}' vmm.$mode.out)
	expect_eq "$mode: mmap events" "$(events $m ".event == \"mmap\" and .pid == $pid")" 2
	for a in $a1 $a2; do
		expect_eq "$mode: mmap at $a" "$(events $m ".event == \"mmap\" and .start == \"$a\" and .region == \"BAR0\" and .device == \"$EDU\" and .cache == \"$CACHE_BAR\" and .size == 1048576 and .result == 0 and .pgprot == \"$PGPROT_BAR\"")" 2
	done
	expect_eq "$mode: what a guest may use of them" \
		"$(jq -r "select(.event == \"mmap\" and .pid == $pid) | \"\(.guest_cache) \(.flags | index(\"allow_any_uncached\") != null)\"" $m | sort -u)" \
		"$GUEST_CACHE_BAR $ANY_UNCACHED"
	# Exactly the faults the process took (vfio-pci 6.1 maps the whole VMA on the first).
	expect_eq "$mode: fault events" "$(events $m ".event == \"fault\" and .pid == $pid")" $((f1 + f2))
	# Within the two mappings (the kernel may place the second one elsewhere). vfio-pci before
	# 6.12 maps the whole VMA on the first fault (one fault, at its start); 6.12 maps the page
	# that faulted (one fault per page touched).
	expect_eq "$mode: faults are NOPAGE PTE faults of BAR0" \
		"$(events $m ".event == \"fault\" and .pid == $pid and .result == \"NOPAGE\" and .page == \"PTE\" and .region == \"BAR0\" and (.start == \"$a1\" or .start == \"$a2\")")" $((f1 + f2))
	if [ $KVER -lt 612 ]; then
		expect_eq "$mode: faults per mapping" "$f1 $f2" "1 1"
		expect_eq "$mode: each fault at the start" "$(events $m ".event == \"fault\" and .pid == $pid and (.address == \"$a1\" or .address == \"$a2\")")" 2
	else
		expect_eq "$mode: faults per mapping" "$f1 $f2" "3 1"
	fi
	# 6.12 may try a touch at PMD order first (vfio_pci_mmap_huge_fault is called per order
	# tried): measured, two order-9 attempts before the first PTE fault of a mapping, or none,
	# depending on where the VMA lies. They are "fallback" events, never counted as faults.
	fb=$(events $m ".event == \"fallback\" and .pid == $pid")
	if [ $KVER -lt 612 ]; then
		expect_eq "$mode: fallbacks" "$fb" 0
	else
		note "$mode: $fb fallbacks"
		expect_eq "$mode: every fallback is a PMD attempt at a touched page" \
			"$(events $m ".event == \"fallback\" and .pid == $pid and .page == \"PMD\" and .result == \"FALLBACK\" and .order == $PMD_ORDER and (.start == \"$a1\" or .start == \"$a2\")")" "$fb"
	fi
	expect_eq "$mode: summary fallbacks" "$(tail -1 $m | jq "[.mappings[] | select(.pid == $pid) | .fallbacks] | add")" "$fb"
	# Both mappings end: the explicit munmap and the exit.
	expect_eq "$mode: unmap events" "$(events $m ".event == \"unmap\" and .pid == $pid and .region == \"BAR0\"")" 2
	# The order of events for the first mapping: mmap, fault(s), unmap, then the second mmap.
	expect_eq "$mode: order" "$(jq -r "select(.pid == $pid and (.event == \"mmap\" or .event == \"unmap\" or .event == \"fault\")) | .event" $m | uniq | tr '\n' ' ')" \
		"mmap fault unmap mmap fault unmap "
	# The summary keeps the two mappings apart, each with its own faults, both ended.
	s=$(tail -1 $m)
	expect_eq "$mode: summary mappings" "$(printf '%s\n' "$s" | jq "[.mappings[] | select(.pid == $pid)] | length")" 2
	expect_eq "$mode: summary faults" "$(printf '%s\n' "$s" | jq -c "[.mappings[] | select(.pid == $pid) | .faults.pte]")" "[$f1,$f2]"
	expect_eq "$mode: all unmapped" "$(printf '%s\n' "$s" | jq "[.mappings[] | select(.pid == $pid) | .unmapped] | all")" true
	expect_eq "$mode: dropped" "$(printf '%s\n' "$s" | jq .dropped)" 0
done

# Counted only: the fault handler's fexit program alone, no fault or fallback event, and the
# summary's counts are the faults the process took (read from the kernel at the unmap).
start_monitor mon.counted.json
want_how=fexit; [ $TRAMPOLINES = 1 ] || want_how=kprobe/kretprobe
expect_eq "counted: fault hook" "$(head -1 mon.counted.json | jq -r '.hooks[] | select(.hook == "fault") | .how')" $want_how
vfg-testvmm open $EDU map $EDU bar0 touch 0 0 $((3 * P)) unmap 0 map $EDU bar0 touch 1 0 $P \
	> vmm.counted.out 2>&1 || fail "test VMM failed: $(cat vmm.counted.out)"
stop_monitor mon.counted.json
m=mon.counted.json
pid=$(jq -r 'select(.event == "mmap") | .pid' $m | head -1)
f1=$(awk '/^touch 0 /{print $NF}' vmm.counted.out)
f2=$(awk '/^touch 1 /{print $NF}' vmm.counted.out)
expect_eq "counted: no fault events" "$(events $m '.event == "fault" or .event == "fallback"')" 0
expect_eq "counted: mmap and unmap events" "$(events $m "(.event == \"mmap\" or .event == \"unmap\") and .pid == $pid")" 4
expect_eq "counted: summary faults" "$(tail -1 $m | jq -c "[.mappings[] | select(.pid == $pid) | .faults.pte]")" "[$f1,$f2]"
expect_eq "counted: no fault errors" "$(tail -1 $m | jq "[.mappings[] | select(.pid == $pid) | .fault_errors] | add")" 0
[ $KVER -ge 612 ] || expect_eq "counted: fallbacks" "$(tail -1 $m | jq "[.mappings[] | select(.pid == $pid) | .fallbacks] | add")" 0

# A mapping still there at the end, faulted while watched: its faults are read from the kernel
# for the summary.
rm -f ready done go
vfg-testvmm open $EDU map $EDU bar0 ready ready waitfile go touch 0 0 $((2 * P)) ready done wait \
	> vmm.live.out 2>&1 &
live=$!
wait_ready ready $live
start_monitor mon.live.json --pid $live
: > go
wait_ready done $live
stop_monitor mon.live.json
f=$(awk '/^touch 0 /{print $NF}' vmm.live.out)
[ "$f" -ge 1 ] || fail "no fault taken: $(cat vmm.live.out)"
expect_eq "mapped at the end: faults counted" "$(tail -1 mon.live.json | jq -c "[.mappings[] | select(.pid == $live) | [.faults.pte, .unmapped]]")" "[[$f,false]]"
stop $live

# ivshmem BAR2 (16 MiB, 2 MiB aligned), three pages touched: 6.1 maps the whole VMA with PTEs on
# the first fault; 6.12 maps a 2 MiB page (order 9, PMD) on the first fault, which covers all
# three; with 16 KiB pages a PMD (32 MiB) is larger than the BAR: one PTE fault per page.
start_monitor mon.bar2.json --accesses
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 touch 0 0 $((3 * P)) > vmm.bar2.out 2>&1 ||
	fail "test VMM failed: $(cat vmm.bar2.out)"
stop_monitor mon.bar2.json
if [ $KVER -lt 612 ]; then
	n=1 want="0 PTE NOPAGE"
elif [ $PAGE_SHIFT = 12 ]; then
	n=1 want="9 PMD NOPAGE"
else
	n=3 want="0 PTE NOPAGE,0 PTE NOPAGE,0 PTE NOPAGE"
fi
expect_eq "BAR2 minor faults" "$(awk '/^touch 0 /{print $NF}' vmm.bar2.out)" $n
expect_eq "BAR2 fault" "$(jq -r 'select(.event == "fault" and .region == "BAR2") | "\(.order) \(.page) \(.result)"' mon.bar2.json | paste -sd,)" "$want"
