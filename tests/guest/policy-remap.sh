# Each mmap is judged by its own region, whatever path reaches the kernel and whatever its page
# size. With ivshmem BAR2 trapped for the test VMM and BAR0 allowed: an mmap of BAR2 is refused;
# remap_file_pages(2) of an allowed BAR0 mapping onto BAR2's offset is refused (EPERM) and
# reported as a denial of BAR2 by its rule, where it used to be judged by the offset of the mmap
# before it and map BAR2 (measured on 6.12); remapping BAR0 onto BAR0 is allowed; and an mmap of
# BAR0 made after a refused remap is judged as BAR0. On the 16 KiB-page arm64 kernel the regions
# come from offsets in 16 KiB pages (they all read as BAR0 when 4 KiB was assumed).
. "$VFG_TESTS/lib.sh"

grep -qw bpf /sys/kernel/security/lsm || skip "BPF-LSM is not active in this kernel"
[ $TRAMPOLINES = 1 ] || skip "no BPF trampolines on this kernel: nothing can be enforced (policy-enforce asserts that apply is refused)"
note "page size $PAGE_SIZE"
policy enforce direct \
	ivshmem-bar2-testvmm trap "device: \"$IVSHMEM\", region: bar2, comm: \"vfg-*\"" > remap.yaml
apply_policy remap.yaml
clear_at_exit

start_monitor mon.json
rc=0; vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 > map2.out 2>&1 || rc=$?
expect_eq "mmap of BAR2 (trapped)" $rc 1
grep -q "Operation not permitted" map2.out || fail "BAR2 not refused with EPERM: $(cat map2.out)"

rc=0; vfg-testvmm open $IVSHMEM map $IVSHMEM bar0 remap 0 bar2 > remap2.out 2>&1 || rc=$?
expect_eq "remap_file_pages of BAR0 onto BAR2" $rc 1
grep -q "remap_file_pages.*Operation not permitted" remap2.out ||
	fail "remap onto BAR2 not refused with EPERM: $(cat remap2.out)"

# x86_64: the 32-bit system call (int $0x80, open to any process) is the same call by another
# entry; a mapping below 4 GiB is remapped through it.
denials=2
if [ $ARCH_NAME = x86_64 ]; then
	rc=0; vfg-testvmm open $IVSHMEM map32 $IVSHMEM bar0 remap32 0 bar2 > remap32.out 2>&1 || rc=$?
	expect_eq "32-bit remap_file_pages of BAR0 onto BAR2" $rc 1
	grep -q "32-bit remap_file_pages.*Operation not permitted" remap32.out ||
		fail "32-bit remap onto BAR2 not refused with EPERM: $(cat remap32.out)"
	denials=3
fi

# A refused remap leaves nothing behind: the mmap after it is BAR0's, and is allowed; BAR0 onto
# BAR0 is allowed.
vfg-testvmm open $IVSHMEM map $IVSHMEM bar0 remap 0 bar2 > /dev/null 2>&1 || true
denials=$((denials + 1))
vfg-testvmm open $IVSHMEM map $IVSHMEM bar0 remap 0 bar0 touch 0 0 4 > remap0.out 2>&1 ||
	fail "remap of BAR0 onto BAR0 refused: $(cat remap0.out)"
grep -q "^remap 0 $IVSHMEM 0" remap0.out || fail "no remap reported: $(cat remap0.out)"
sleep 1
stop_monitor mon.json

denied() { events mon.json ".event == \"policy\" and .decision == \"denied\" and $1"; }
expect_eq "denials of BAR2 by its rule" \
	"$(denied ".region == \"BAR2\" and .rule == \"ivshmem-bar2-testvmm\"")" $denials
expect_eq "denials of anything else" "$(denied ".region != \"BAR2\"")" 0
# The mmaps of BAR0, and on kernels whose remap_file_pages calls the LSM hook, the remap of BAR0.
allowed=$(events mon.json ".event == \"policy\" and .decision == \"allowed\" and .region == \"BAR0\"")
[ "$allowed" -ge 3 ] || fail "allowed BAR0 decisions: $allowed, want at least 3"
note "allowed BAR0 decisions: $allowed"
vfioguard -j audit > audit.json
expect_eq "mappings of BAR2 left" "$(jq '[.mappings[] | select(.region == "BAR2")] | length' audit.json)" 0
