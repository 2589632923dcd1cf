# Real QEMU as the VMM: -device vfio-pci,host=edu under qtest. audit reports QEMU's mapping of edu
# BAR0, and a qtest read of register 0 through that mapping returns 0x010000ed.
. "$VFG_TESTS/lib.sh"

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
mkfifo qtest.in
qemu-system-x86_64 -machine q35,accel=tcg -S -qtest stdio -display none -nodefaults \
	-device vfio-pci,host=$EDU,addr=02.0 < qtest.in > qtest.out 2> qemu.err &
QEMU_PID=$!
exec 3> qtest.in
# Program BAR0 at 0xe0000000 and enable memory decoding (DESIGN.md, "The test guest").
printf '%s\n' 'outl 0xcf8 0x80001010' 'outl 0xcfc 0xe0000000' 'outl 0xcf8 0x80001004' \
	'outw 0xcfc 6' 'readl 0xe0000000' >&3
n=0
while [ "$(grep -c '^OK' qtest.out 2>/dev/null)" -lt 5 ]; do
	kill -0 $QEMU_PID 2>/dev/null || fail "QEMU exited: $(cat qemu.err)"
	n=$((n + 1)); [ $n -lt 600 ] || fail "qtest did not answer: $(cat qtest.out)"
	sleep 0.1
done
value=$(grep '^OK 0x' qtest.out | tail -1 | cut -d' ' -f2)
expect_eq "edu register 0 via QEMU" "$(printf '0x%08x' $((value)))" 0x010000ed

vfioguard -j audit > audit.json || fail "audit exited $?"
m=$(jq -c ".mappings[] | select(.pid == $QEMU_PID and .device == \"$EDU\" and .region == \"BAR0\")" audit.json)
[ -n "$m" ] || fail "QEMU's mapping of edu BAR0 not reported: $(cat audit.json)"
expect_eq "comm" "$(echo "$m" | jq -r .comm)" "qemu-system-x86"
expect_eq "size" "$(echo "$m" | jq -r .size)" 1048576
expect_eq "cache" "$(echo "$m" | jq -r .cache)" "UC-"
start=$(echo "$m" | jq -r .start)
grep -q "^${start#0x}-.* rw-s .*vfio-device" /proc/$QEMU_PID/maps ||
	fail "$start is not a vfio-device mapping of QEMU"

exec 3>&-
stop $QEMU_PID
