# Real QEMU as the VMM: -device vfio-pci,host=edu under qtest. audit reports QEMU's mapping of edu
# BAR0, and a qtest read of register 0 through that mapping returns 0x010000ed.
. "$VFG_TESTS/lib.sh"

command -v $QEMU_BIN >/dev/null || fail "$QEMU_BIN is not in the guest (make deps)"
start_qemu
expect_eq "edu register 0 via QEMU" "$(qtest_edu_reg0)" 0x010000ed

vfioguard -j audit > audit.json || fail "audit exited $?"
m=$(jq -c ".mappings[] | select(.pid == $QEMU_PID and .device == \"$EDU\" and .region == \"BAR0\")" audit.json)
[ -n "$m" ] || fail "QEMU's mapping of edu BAR0 not reported: $(cat audit.json)"
expect_eq "comm" "$(printf '%s\n' "$m" | jq -r .comm)" "$QEMU_COMM"
expect_eq "size" "$(printf '%s\n' "$m" | jq -r .size)" 1048576
expect_eq "cache" "$(printf '%s\n' "$m" | jq -r .cache)" "$CACHE_BAR"
start=$(printf '%s\n' "$m" | jq -r .start)
grep -q "^${start#0x}-.* rw-s .*vfio-device" /proc/$QEMU_PID/maps ||
	fail "$start is not a vfio-device mapping of QEMU"

stop_qemu
