# The test VMM maps edu BAR0 and ivshmem BAR2; audit --json reports both with the right device,
# region, size, cache mode and raw pgprot, checked against what the kernel itself shows.
. "$VFG_TESTS/lib.sh"

start_vmm ready open $EDU open $IVSHMEM map $EDU bar0 map $IVSHMEM bar2 \
	read 0 0 4 volatile read 1 0 4 volatile
grep -q '^read 0 0x0 = 0x10000ed$' vmm.out || fail "edu register 0 through the mapping: $(cat vmm.out)"

vfioguard -j audit > audit.json || fail "audit exited $?"
expect_eq "mappings of the test VMM" \
	"$(jqf audit.json "[.mappings[] | select(.pid == $VMM_PID)] | length")" 2

# device region index size slot
for want in "$EDU BAR0 0 1048576 0" "$IVSHMEM BAR2 2 16777216 1"; do
	set -- $want
	m=$(jq -c ".mappings[] | select(.pid == $VMM_PID and .device == \"$1\")" audit.json)
	[ -n "$m" ] || fail "no mapping of $1 reported"
	expect_eq "$1 region" "$(printf '%s\n' "$m" | jq -r .region)" "$2"
	expect_eq "$1 region index" "$(printf '%s\n' "$m" | jq -r .region_index)" "$3"
	expect_eq "$1 size" "$(printf '%s\n' "$m" | jq -r .size)" "$4"
	expect_eq "$1 region offset" "$(printf '%s\n' "$m" | jq -r .region_offset)" 0
	expect_eq "$1 cache" "$(printf '%s\n' "$m" | jq -r .cache)" "$CACHE_BAR"
	expect_eq "$1 pgprot" "$(printf '%s\n' "$m" | jq -r .pgprot)" $PGPROT_BAR
	expect_eq "$1 comm" "$(printf '%s\n' "$m" | jq -r .comm)" vfg-testvmm
	expect_eq "$1 start time (/proc's)" "$(printf '%s\n' "$m" | jq -r .start_time)" "$(start_time $VMM_PID)"
	for f in shared io pfnmap write; do
		printf '%s\n' "$m" | jq -e ".flags | index(\"$f\")" >/dev/null || fail "$1: flag $f missing"
	done
	# What KVM would let a guest use of it, next to the VMM's own mode (lib.sh).
	expect_eq "$1 allow_any_uncached" "$(printf '%s\n' "$m" | jq '.flags | index("allow_any_uncached") != null')" $ANY_UNCACHED
	expect_eq "$1 guest cache" "$(printf '%s\n' "$m" | jq -r .guest_cache)" $GUEST_CACHE_BAR

	# The range is the VMM's own: the address it printed, and /proc/PID/maps agrees.
	start=$(printf '%s\n' "$m" | jq -r .start)
	end=$(printf '%s\n' "$m" | jq -r .end)
	grep -q "^map $5 $1 $3 $start $(printf '0x%x' $4)\$" vmm.out ||
		fail "$1: audit says $start, the VMM mapped: $(grep "^map $5" vmm.out)"
	grep -q "^${start#0x}-${end#0x} rw-s .*vfio-device" /proc/$VMM_PID/maps ||
		fail "$1: $start-$end is not a vfio-device mapping in /proc/$VMM_PID/maps"

	# What the kernel really has: vfio-pci before 6.12 points vm_pgoff (the maps offset
	# column) at the BAR's PFN; 6.12 keeps the mmap offset (region index << 40). PAT tracks
	# the BAR's physical range as UC- either way.
	bar=$(bar_start $1 $3)
	if [ $PGOFF_IS_PFN = 1 ]; then
		off=$((bar))
	else
		off=$(($3 << VFIO_PCI_OFFSET_SHIFT))
	fi
	expect_eq "$1 maps offset" "0x$(grep "^${start#0x}-" /proc/$VMM_PID/maps | cut -d' ' -f3)" \
		"$(printf '0x%08x' $off)"
	expect_eq "$1 vm_pgoff" "$(printf '%s\n' "$m" | jq -r .vm_pgoff)" "$(printf '0x%x' $((off >> PAGE_SHIFT)))"
	[ $ARCH_NAME != x86_64 ] ||
		expect_eq "$1 PAT memtype of the BAR" "$(pat_memtype $bar)" "uncached-minus"
done

# The table says the same in columns.
vfioguard audit > audit.txt || fail "table audit exited $?"
grep -q "^$VMM_PID  *vfg-testvmm  *$EDU  *BAR0 .* 1M  *0 $CACHE_BAR  *$PGPROT_BAR_TABLE " audit.txt ||
	fail "table row for edu BAR0 missing: $(cat audit.txt)"
grep -q "^$VMM_PID  *vfg-testvmm  *$IVSHMEM  *BAR2 .* 16M  *0 $CACHE_BAR " audit.txt ||
	fail "table row for ivshmem BAR2 missing"
stop $VMM_PID

# A VMM that names itself with escape sequences (clear the screen, set the terminal's title):
# the table shows them as \xNN, and no control character reaches the terminal.
start_vmm ready open $IVSHMEM map $IVSHMEM bar2 name 1b5b324a1b5d303b7807
vfioguard audit > esc.txt || fail "table audit exited $?"
grep -q "^$VMM_PID  *\\\\x1b\[2J\\\\x1b\]0;x\\\\x07  *$IVSHMEM  *BAR2 " esc.txt ||
	fail "the escaped name is not in the table: $(od -c esc.txt | head -20)"
expect_eq "control characters in the table" "$(tr -d '\n' < esc.txt | tr -d '[:print:]' | wc -c)" 0
stop $VMM_PID
