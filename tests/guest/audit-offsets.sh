# Partial mappings at an offset into a region, several per process, an unmapped one, and threads
# of one process reported once: audit reports each range with its region offset and no stale rows.
. "$VFG_TESTS/lib.sh"

start_vmm ready open $IVSHMEM open $EDU map $IVSHMEM bar2 0x3000 0x2000 \
	map $IVSHMEM bar2 0x800000 map $EDU bar0 0x1000 0x1000 unmap 1 touch 0 0 0x2000
vfioguard -j audit > a.json || fail "audit exited $?"
expect_eq "rows" "$(jqf a.json "[.mappings[] | select(.pid == $VMM_PID)] | length")" 2
expect_eq "ivshmem offset" \
	"$(jqf a.json ".mappings[] | select(.pid == $VMM_PID and .device == \"$IVSHMEM\") | \"\(.region) \(.region_offset) \(.size)\"")" \
	"BAR2 12288 8192"
expect_eq "edu offset" \
	"$(jqf a.json ".mappings[] | select(.pid == $VMM_PID and .device == \"$EDU\") | \"\(.region) \(.region_offset) \(.size)\"")" \
	"BAR0 4096 4096"
stop $VMM_PID

# Nothing mapped any more: nothing reported, and the text says so.
vfioguard -j audit > b.json || fail "audit exited $?"
expect_eq "rows after exit" "$(jqf b.json '.mappings | length')" 0
vfioguard audit > b.txt || fail "audit exited $?"
grep -q "no VFIO device mappings" b.txt || fail "empty audit text: $(cat b.txt)"
