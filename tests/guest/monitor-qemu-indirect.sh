# Real QEMU with x-no-mmap=on reads edu register 0 through qtest: monitor --accesses shows the
# 4-byte read of BAR0 offset 0 by QEMU through the device fd, and no mapping of BAR0; a second
# monitor at the same time, without --accesses, sends no read event and has the same summary
# (counted in the kernel by the fexit program alone; kprobe and kretprobe without trampolines).
. "$VFG_TESTS/lib.sh"

command -v $QEMU_BIN >/dev/null || fail "$QEMU_BIN is not in the guest (make deps)"
start_monitor counted.json --comm $QEMU_COMM --device $EDU
counted=$MON_PID
start_monitor mon.json --comm $QEMU_COMM --device $EDU --accesses
start_qemu ,x-no-mmap=on
expect_eq "edu register 0 via QEMU" "$(qtest_edu_reg0)" 0x010000ed
sleep 1
stop_qemu
stop_monitor mon.json
MON_PID=$counted
stop_monitor counted.json

expect_eq "4-byte read of BAR0 offset 0" \
	"$(events mon.json ".event == \"read\" and .pid == $QEMU_PID and .comm == \"$QEMU_COMM\" and .region == \"BAR0\" and .offset == 0 and .size == 4 and .result == 4")" 1
expect_eq "no mapping of BAR0" "$(events mon.json "(.event == \"mmap\" or .event == \"existing\") and .region == \"BAR0\"")" 0
# The summary counts it under the fd accesses of BAR0.
expect_eq "summary" "$(tail -1 mon.json | jq -c ".indirect[] | select(.pid == $QEMU_PID and .region == \"BAR0\") | [.reads.\"4\", .read_bytes]")" "[1,4]"
expect_eq "counted: no read event" "$(events counted.json '.event == "read" or .event == "write"')" 0
want_how=fexit; [ $TRAMPOLINES = 1 ] || want_how=kprobe/kretprobe
expect_eq "counted: read hook" "$(head -1 counted.json | jq -r '.hooks[] | select(.hook == "read") | .how')" $want_how
expect_eq "counted: summary" "$(tail -1 counted.json | jq -c ".indirect[] | select(.pid == $QEMU_PID and .region == \"BAR0\") | [.reads.\"4\", .read_bytes]")" "[1,4]"
# The regions table: BAR0 reached through the fd only (trapped), no cache mode, the verdict of
# no policy (direct).
expect_eq "regions: BAR0 trapped" \
	"$(tail -1 mon.json | jq -c ".regions[] | select(.pid == $QEMU_PID and .region == \"BAR0\") | [.mapped, .fd, .cache, .access, .rule]")" \
	'[false,true,null,"direct","no policy in force"]'
