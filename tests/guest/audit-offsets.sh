# Partial mappings at an offset into a region, several per process, an unmapped one, and threads
# of one process reported once: audit reports each range with its region offset and no stale rows.
# Offsets and sizes are in pages of the kernel's size (16 KiB on arm64-16k).
. "$VFG_TESTS/lib.sh"

P=$PAGE_SIZE
start_vmm ready open $IVSHMEM open $EDU map $IVSHMEM bar2 $((3 * P)) $((2 * P)) \
	map $IVSHMEM bar2 0x800000 map $EDU bar0 $P $P unmap 1 touch 0 0 $((2 * P))
vfioguard -j audit > a.json || fail "audit exited $?"
expect_eq "rows" "$(jqf a.json "[.mappings[] | select(.pid == $VMM_PID)] | length")" 2
expect_eq "ivshmem offset" \
	"$(jqf a.json ".mappings[] | select(.pid == $VMM_PID and .device == \"$IVSHMEM\") | \"\(.region) \(.region_offset) \(.size)\"")" \
	"BAR2 $((3 * P)) $((2 * P))"
expect_eq "edu offset" \
	"$(jqf a.json ".mappings[] | select(.pid == $VMM_PID and .device == \"$EDU\") | \"\(.region) \(.region_offset) \(.size)\"")" \
	"BAR0 $P $P"
stop $VMM_PID

# Nothing mapped any more: nothing reported, and the text says so.
vfioguard -j audit > b.json || fail "audit exited $?"
expect_eq "rows after exit" "$(jqf b.json '.mappings | length')" 0
vfioguard audit > b.txt || fail "audit exited $?"
grep -q "no VFIO device mappings" b.txt || fail "empty audit text: $(cat b.txt)"
