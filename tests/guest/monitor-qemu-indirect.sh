# Real QEMU with x-no-mmap=on reads edu register 0 through qtest: monitor shows the 4-byte read
# of BAR0 offset 0 by qemu-system-x86 through the device fd, and no mapping of BAR0.
. "$VFG_TESTS/lib.sh"

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
start_monitor mon.json --comm qemu-system-x86 --device $EDU
mkfifo qtest.in
qemu-system-x86_64 -machine q35,accel=tcg -S -qtest stdio -display none -nodefaults \
	-device vfio-pci,host=$EDU,addr=02.0,x-no-mmap=on < qtest.in > qtest.out 2> qemu.err &
QEMU_PID=$!
exec 3> qtest.in
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
sleep 1
exec 3>&-
stop $QEMU_PID
stop_monitor mon.json

expect_eq "4-byte read of BAR0 offset 0" \
	"$(events mon.json ".event == \"read\" and .pid == $QEMU_PID and .comm == \"qemu-system-x86\" and .region == \"BAR0\" and .offset == 0 and .size == 4 and .result == 4")" 1
expect_eq "no mapping of BAR0" "$(events mon.json "(.event == \"mmap\" or .event == \"existing\") and .region == \"BAR0\"")" 0
# The summary counts it under the fd accesses of BAR0.
expect_eq "summary" "$(tail -1 mon.json | jq -c ".indirect[] | select(.pid == $QEMU_PID and .region == \"BAR0\") | [.reads.\"4\", .read_bytes]")" "[1,4]"
