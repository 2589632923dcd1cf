# Every cache mode through a real mapping: the test driver (tests/kmod, shaped like nvgrace-gpu)
# takes ivshmem over and maps its BAR2 and BAR4 (RAM behind ivshmem's BAR2) in the mode each is
# told, remapped at mmap as nvgrace-gpu does. audit and monitor must report the mode the pages
# really carry, checked against the driver's own record of the pgprot it asked for and, on
# x86_64, the kernel's PAT memtype list; the guest's view (VM_ALLOW_ANY_UNCACHED); and the
# region: monitor sees it in the mmap offset, audit cannot (the driver rewrote vm_pgoff) and
# must say it does not know rather than name the BAR the PFN falls in.
. "$VFG_TESTS/lib.sh"

clear_at_exit MON_PID
gh100_bind
params=$GH100_PARAMS
driver=$GH100_DRIVER

# want_cache MODE: the mode a mapping asked for as the driver's MODE must decode to. x86_64's
# write-back request is granted what the kernel's PAT tracking gives (asserted separately).
want_cache() {
	case $ARCH_NAME/$1 in
	aarch64/cached) echo Normal ;;
	aarch64/wc) echo Normal-NC ;;
	aarch64/noncached) echo Device-nGnRnE ;;
	aarch64/device) echo Device-nGnRE ;;
	x86_64/wc) echo WC ;;
	x86_64/noncached|x86_64/device) echo UC- ;;
	x86_64/uc) echo UC ;;
	x86_64/cached) echo PAT ;;
	esac
}
# The kernel's PAT memtype names as vfioguard names the modes.
pat_cache() {
	case $1 in
	write-back) echo WB ;;
	write-combining) echo WC ;;
	uncached-minus) echo UC- ;;
	uncached) echo UC ;;
	write-through) echo WT ;;
	write-protect) echo WP ;;
	*) echo "?$1" ;;
	esac
}

# Layouts: nvgrace-gpu's (resmem write-combined, usemem cacheable), then the noncached modes.
case $ARCH_NAME in
aarch64) layouts="wc:cached noncached:device" ;;
*) layouts="wc:cached noncached:uc device:wc" ;;
esac

# What one store instruction of each kind does in each mode, on RAM (so no device can refuse
# it): aligned scalar stores, the same 4 bytes stored twice, a 16-byte vector store (and an
# arm64 register pair), each at an aligned and an unaligned offset and across a 64-byte line,
# and arm64's dc zva (glibc's memset zeroes with it). Measured in both guests (QEMU 7.2, TCG):
# every one is done, exactly, in every mode the driver gets there (x86: WC, UC-, UC; a WB request
# is granted UC-), the arm64 Device modes included. The Arm
# architecture makes an unaligned access or a dc zva to Device memory an alignment fault; the
# emulator does not, so what the README says of those cases comes from the architecture, not
# from this test.
case $ARCH_NAME in
aarch64) store_kinds="s1 s2 s4 s8 dup4 p16 v16" ;;
*) store_kinds="s1 s2 s4 s8 dup4 v16" ;;
esac
# store_actions SLOT: the vfg-testvmm actions that make every store kind in that slot.
store_actions() {
	for _k in $store_kinds; do
		printf ' store %s 0x1000 %s' $1 $_k
		[ $_k = s1 ] || printf ' store %s 0x2001 %s store %s 0x303e %s' $1 $_k $1 $_k
	done
	[ $ARCH_NAME != aarch64 ] || printf ' store %s 0x4010 zva' $1
}
stores_per_slot=$(store_actions 1 | wc -w)
stores_per_slot=$((stores_per_slot / 4))
first=1
for layout in $layouts; do
	m2=${layout%:*} m4=${layout#*:}
	echo $m2 > $params/bar2_mode
	echo $m4 > $params/bar4_mode
	[ $first = 0 ] || start_monitor mon.json
	start_vmm ready open $IVSHMEM map $IVSHMEM bar0 map $IVSHMEM bar2 map $IVSHMEM bar4 \
		write 1 8 8 0x1122334455667788 volatile write 2 8 8 0x99aabbccddeeff00 volatile \
		read 1 8 8 volatile read 2 8 8 volatile $(store_actions 1) $(store_actions 2)
	# The memory is RAM: what was stored reads back through each mode.
	grep -q '^read 1 0x8 = 0x1122334455667788$' vmm.out || fail "BAR2 ($m2) read back: $(cat vmm.out)"
	grep -q '^read 2 0x8 = 0x99aabbccddeeff00$' vmm.out || fail "BAR4 ($m4) read back: $(cat vmm.out)"
	expect_eq "store kinds done exactly in BAR2 ($m2) and BAR4 ($m4)" \
		"$(grep '^store ' vmm.out | grep -c ' ok exact$')" $((2 * stores_per_slot))
	vfioguard -j audit > audit.json || fail "audit exited $?"
	for want in "1 2 $m2" "2 4 $m4"; do
		set -- $want
		slot=$1 index=$2 mode=$3
		start=$(awk -v s=$slot '$1 == "map" && $2 == s { print $5 }' vmm.out)
		m=$(jq -c ".mappings[] | select(.pid == $VMM_PID and .start == \"$start\")" audit.json)
		[ -n "$m" ] || fail "BAR$index ($mode): no mapping at $start in audit: $(cat audit.json)"
		get() { printf '%s\n' "$m" | jq -r "$1"; }
		# The driver's record: the pgprot it asked for and the PFN it mapped.
		log=$(dmesg | grep "$driver $IVSHMEM: mmap region $index mode $mode " | tail -1)
		[ -n "$log" ] || fail "BAR$index: the driver logged no mmap in mode $mode: $(dmesg | grep "$driver" | tail -3)"
		asked=$(printf '%s\n' "$log" | sed 's/.* pgprot \(0x[0-9a-f]*\) .*/\1/')
		pfn=$(printf '%s\n' "$log" | sed 's/.* pfn \(0x[0-9a-f]*\) .*/\1/')
		note "BAR$index $mode: asked $asked at pfn $pfn; audit: $(get .cache) $(get .pgprot) from $(get .pgprot_from)"
		expect_eq "BAR$index ($mode) vm_page_prot against the driver's" "$(get .vm_page_prot)" "$asked"
		cache=$(want_cache $mode)
		if [ $ARCH_NAME = x86_64 ]; then
			# The pages' own bits: PAT decides, and the kernel's list says what it granted.
			expect_eq "BAR$index ($mode) pgprot read from" "$(get .pgprot_from)" pte
			pat=$(pat_cache "$(pat_memtype $((pfn << 12)))")
			note "BAR$index $mode: the PAT memtype list says $pat"
			expect_eq "BAR$index ($mode) cache against the PAT's record" "$(get .cache)" "$pat"
			# Where PAT granted another type than asked, the VMA's own bits say the other.
			if [ $mode = cached ] && [ "$pat" != WB ]; then
				[ "$(get .pgprot)" != "$asked" ] ||
					fail "BAR$index: pgprot $asked is what was asked, not what PAT granted ($pat)"
			fi
			[ "$cache" = PAT ] || expect_eq "BAR$index ($mode) cache" "$(get .cache)" "$cache"
		else
			expect_eq "BAR$index ($mode) pgprot" "$(get .pgprot)" "$asked"
			expect_eq "BAR$index ($mode) cache" "$(get .cache)" "$cache"
		fi
		# The driver rewrote vm_pgoff to the PFN (inside ivshmem's BAR2 for both regions).
		expect_eq "BAR$index vm_pgoff" "$(get .vm_pgoff)" "$pfn"
		expect_eq "BAR$index region (audit cannot know it)" "$(get .region)" "?"
		expect_eq "BAR$index region_index" "$(get .region_index)" null
		expect_eq "BAR$index region_from" "$(get .region_from)" driver
		# The guest's view: the driver lets KVM map its write-combined region Normal-NC where
		# the kernel has VM_ALLOW_ANY_UNCACHED (6.9+); a cacheable one depends on the kernel.
		uncached=false
		[ $mode != wc ] || [ $KVER -lt 612 ] || uncached=true
		expect_eq "BAR$index ($mode) allow_any_uncached" \
			"$(get '.flags | index("allow_any_uncached") != null')" $uncached
		guest=null
		[ $ARCH_NAME != aarch64 ] || case $mode/$uncached in
			wc/true) guest=Normal-NC ;;
			wc/false|noncached/*|device/*) guest=Device-nGnRE ;;
		esac
		expect_eq "BAR$index ($mode) guest cache" "$(get .guest_cache)" $guest
	done
	# vfio-pci's own BAR0 next to them: its region from the offset or its PFN, noncached.
	start=$(awk '$1 == "map" && $2 == 0 { print $5 }' vmm.out)
	m=$(jq -c ".mappings[] | select(.pid == $VMM_PID and .start == \"$start\")" audit.json)
	expect_eq "BAR0 region" "$(printf '%s\n' "$m" | jq -r .region)" BAR0
	expect_eq "BAR0 cache" "$(printf '%s\n' "$m" | jq -r .cache)" "$CACHE_BAR"

	if [ $first = 1 ]; then
		# monitor saw the mmaps: the region from the offset the VMM asked for.
		stop $VMM_PID
		stop_monitor mon.json
		MON_PID=
		for want in "2 $m2" "4 $m4"; do
			set -- $want
			e=$(jq -c "select(.event == \"mmap\" and .pid == $VMM_PID and .region_index == $1)" mon.json)
			[ -n "$e" ] || fail "monitor: no mmap of BAR$1: $(cat mon.json)"
			expect_eq "monitor BAR$1 region_from" "$(printf '%s\n' "$e" | jq -r .region_from)" offset
			c=$(want_cache $2)
			[ "$c" = PAT ] || expect_eq "monitor BAR$1 ($2) cache" "$(printf '%s\n' "$e" | jq -r .cache)" "$c"
		done
		first=0
	else
		stop $VMM_PID
	fi
done

# The shipped GH100 policy judges the driver's layout (its vendor line dropped: the device is
# ivshmem, not NVIDIA's). On arm64 the memory regions, mapped Normal-NC and Normal as
# nvgrace-gpu maps them, may be copied into directly as memory; on x86 (no GH100 there: the rule
# names aarch64) they are fixed-width only; the register BAR is fixed-width everywhere.
grep -v '^ *vendor: 0x10de$' "$VFG_TOP/docs/examples/gh100-host.yaml" > gh100.yaml
case $ARCH_NAME in
aarch64) want2="direct gpu-memory-cacheable memory Normal-NC" want4="direct gpu-memory-cacheable memory Normal" ;;
*) want2="fixed gpu-memory-device-mapped memory UC-" want4="fixed gpu-memory-device-mapped memory UC-" ;;
esac
for want in "bar2:$want2" "bar4:$want4" "bar0:fixed gpu-bars registers $CACHE_BAR"; do
	r=${want%%:*}
	vfioguard -j policy explain --policy gh100.yaml --device $IVSHMEM --region $r > explain.json ||
		fail "explain $r: $(cat explain.json)"
	expect_eq "gh100-host.yaml on $r" "$(jq -r '"\(.access) \(.rule) \(.semantics) \(.cache)"' explain.json)" "${want#*:}"
done

# A real cache-mode mismatch: the policy assumes a mode for BAR2 at apply time (no mapping of it
# exists, so the driver's known choice: nvgrace-gpu's Normal-NC on arm64, vfio-pci's UC- for a
# BAR on x86), then the driver maps it otherwise (x86: write-combined; arm64: noncached).
# policy show reports the mapped mode against the assumption and exits 1; serve's metric too.
if [ $TRAMPOLINES = 1 ]; then
	case $ARCH_NAME in
	aarch64) assumed=Normal-NC mode=noncached mapped=Device-nGnRnE ;;
	*) assumed=UC- mode=wc mapped=WC ;;
	esac
	echo $mode > $params/bar2_mode
	policy enforce direct gh100-bar2 direct "device: \"$IVSHMEM\", region: bar2" > p.yaml
	apply_policy p.yaml
	# What VMMs are told covers the regions the driver presents, not only ivshmem's own BARs.
	expect_eq "regions published for the driver's device" \
		"$(jq -r ".devices[] | select(.device == \"$IVSHMEM\") | [.regions[].name] | join(\" \")" /run/vfioguard/regions.json)" \
		"BAR0 BAR2 BAR4 CONFIG"
	vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 read 0 0 8 volatile > vmm.out 2>&1 ||
		fail "mapping BAR2 under the policy: $(cat vmm.out)"
	rc=0; vfioguard -j policy show > show.json || rc=$?
	expect_eq "policy show's status on a mismatch" $rc 1
	expect_eq "BAR2 observed" "$(jq -r ".observed[] | select(.device == \"$IVSHMEM\" and .region == \"BAR2\") | \"\(.assumed) \(.mapped) \(.mismatch)\"" show.json)" \
		"$assumed $mapped true"
	vfioguard policy clear > /dev/null
fi

# Copies into the driver's regions (nvgrace-gpu's layout). BAR2 is mapped before monitor
# starts, so nothing says its region (audit's case); BAR4 is mapped while monitor watches, and
# its copies get the region of that mmap, so the driver's defaults apply: nvgrace-gpu's BAR2 and
# BAR4 hold memory, where a duplicated or split store is no violation (only the mode's ISA rules
# count: none for cacheable memory), while an unknown region is judged as registers.
echo wc > $params/bar2_mode
echo cached > $params/bar4_mode
export VFIOGUARD_CACHE_DIR=$PWD/cache
rm -f ready go copied done
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 ready ready waitfile go \
	map $IVSHMEM bar4 copy 0 0x40 4 memcpy copy 1 0x40 4 memcpy \
	copy 0 0x1000 4096 memset copy 1 0x1000 4096 memset ready copied waitfile done \
	> vmm.out 2>&1 &
vmm=$!
watch_copies $vmm
touch go
wait_ready copied $vmm 300
kill -INT $MON_PID
set +e; wait $MON_PID; rc=$?; set -e
MON_PID=
touch done
wait $vmm || fail "test VMM failed: $(cat vmm.out)"
[ $rc = 0 ] || [ $rc = 1 ] || fail "monitor exited $rc: $(tail -5 mon.json.err)"
jq -c 'select(.event == "copy")' mon.json > copies.json
expect_eq "copies reported" "$(wc -l < copies.json)" 4
# Each copy by its length and region (BAR2's is unknown: "?").
c2=$(jq -c 'select(.length == 4 and .region == "?")' copies.json)
c4=$(jq -c 'select(.length == 4 and .region == "BAR4")' copies.json)
s2=$(jq -c 'select(.length == 4096 and .region == "?")' copies.json)
s4=$(jq -c 'select(.length == 4096 and .region == "BAR4")' copies.json)
[ -n "$c2" ] && [ -n "$c4" ] && [ -n "$s2" ] && [ -n "$s4" ] || fail "copies by region: $(cat copies.json)"
note "BAR2 copy: $(printf '%s\n' "$c2" | jq -c '{region, cache, semantics, hazards, violations}')"
note "BAR4 copy: $(printf '%s\n' "$c4" | jq -c '{region, cache, semantics, hazards, violations}')"
expect_eq "copy into the mapping made while watched: region" "$(printf '%s\n' "$c4" | jq -r '"\(.region) \(.region_offset)"')" "BAR4 64"
expect_eq "BAR4 semantics (nvgrace-gpu's default)" "$(printf '%s\n' "$c4" | jq -r .semantics)" memory
expect_eq "BAR4 violations" "$(printf '%s\n' "$c4" | jq -c .violations)" "[]"
expect_eq "copy into the mapping made before: region" "$(printf '%s\n' "$c2" | jq -r '"\(.region) \(.region_offset)"')" "? null"
expect_eq "unknown region's semantics" "$(printf '%s\n' "$c2" | jq -r .semantics)" registers
if [ $ARCH_NAME = x86_64 ]; then
	# glibc's 4-byte copy stores the same 4 bytes twice (DESIGN.md): a violation on registers.
	expect_eq "BAR4 hazards" "$(printf '%s\n' "$c4" | jq -c .hazards)" '["dup"]'
	expect_eq "unknown region's violations" "$(printf '%s\n' "$c2" | jq -c .violations)" '["dup"]'
	expect_eq "monitor's status (a violation)" $rc 1
fi

# A 4 KiB memset is glibc's `rep stosb` on x86_64 (calibrate-facts): traced one byte per step,
# in order, as it runs on UC memory. On WC memory the CPU may run it as a fast-string
# operation, wider and in another order, so the copy into BAR2 (WC) has `wide` and `reorder`;
# the one into BAR4 (asked WB, granted what PAT gives: UC- in the test guests, see above) has
# what the trace shows unless that is WB. arm64 has no string instructions.
note "4 KiB memsets: $(jq -c 'select(.length == 4096) | {region, cache, string, hazards}' copies.json | tr '\n' ' ')"
expect_eq "4 KiB memsets measured" "$(printf '%s\n' "$s2" "$s4" | jq -r .measured | tr '\n' ' ')" "true true "
if [ $ARCH_NAME = x86_64 ]; then
	expect_eq "4 KiB memset into BAR2 (WC)" "$(printf '%s\n' "$s2" | jq -c '[.cache, .string, .hazards]')" \
		'["WC",true,["reorder","wide"]]'
	want='[]'
	[ "$(printf '%s\n' "$s4" | jq -r .cache)" != WB ] || want='["reorder","wide"]'
	expect_eq "4 KiB memset into BAR4 ($(printf '%s\n' "$s4" | jq -r .cache))" \
		"$(printf '%s\n' "$s4" | jq -c '[.string, .hazards]')" "[true,$want]"
else
	expect_eq "4 KiB memsets: string instructions" \
		"$(printf '%s\n' "$s2" "$s4" | jq -r .string | tr '\n' ' ')" "false false "
fi

# A register BAR that refuses what it does not take, next to the RAM above: edu (vfio-pci's,
# UC- or Device-nGnRnE) takes only aligned 4- and 8-byte accesses. Measured: on x86_64 an
# unaligned 4-byte store and a 1-byte store into it are dropped without a fault (the register
# keeps its value); on arm64 the unaligned store is a synchronous external abort, the device's
# refusal reported by the bus (not an alignment fault, which the emulator does not raise), and
# the VMM dies of SIGBUS. This is what kills QEMU in copies-qemu.
trace=$(sysctl -n debug.exception-trace)
sysctl -q -w debug.exception-trace=1
rc=0
vfg-testvmm open $EDU map $EDU bar0 write 0 0x4 4 0x1 volatile read 0 0x4 4 volatile \
	write 0 0x5 4 0x12345678 volatile write 0 0x4 1 0x7 volatile read 0 0x4 4 volatile \
	> edu.out 2>&1 &
edu=$!
wait $edu || rc=$?
sysctl -q -w debug.exception-trace=$trace
note "edu: $(tr '\n' ' ' < edu.out) (status $rc)"
expect_eq "edu's register before" "$(grep -m1 '^read 0 0x4 = ' edu.out)" "read 0 0x4 = 0xfffffffe"
if [ $ARCH_NAME = aarch64 ]; then
	expect_eq "the unaligned store into edu: killed by" "$(kill -l $((rc - 128)) 2>/dev/null)" BUS
	abort=$(dmesg | grep "vfg-testvmm\[$edu\]: unhandled exception" | tail -1)
	note "edu: $abort"
	case $abort in
	*"synchronous external abort"*) ;;
	*) fail "the unaligned store into edu: no external abort in the kernel's log: '$abort'" ;;
	esac
else
	expect_eq "the unaligned and narrow stores into edu: status" $rc 0
	expect_eq "edu's register after (both stores dropped)" "$(grep '^read 0 0x4 = ' edu.out | sed -n 2p)" \
		"read 0 0x4 = 0xfffffffe"
fi
