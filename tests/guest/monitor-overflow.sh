# A ring buffer of one page and a burst of reads through the device fd, each an event
# (--accesses): the events that did not fit are counted, and seen + dropped is exactly what the
# test generated. The summary's counts come from the kernel's own, which never drop: all of them.
. "$VFG_TESTS/lib.sh"

N=20000
vfg-testvmm open $EDU ready set waitfile go preadn $N $EDU bar0 0 4 ready done wait \
	> vmm.out 2>&1 &
VMM_PID=$!
wait_ready set $VMM_PID
start_monitor mon.json --pid $VMM_PID --ringbuf-size 4096 --accesses
: > go
wait_ready done $VMM_PID 300
sleep 1
stop_monitor mon.json
seen=$(events mon.json ".event == \"read\" and .pid == $VMM_PID")
dropped=$(tail -1 mon.json | jq .dropped)
note "seen $seen, dropped $dropped of $N"
[ "$dropped" -gt 0 ] || fail "a one-page ring buffer dropped nothing ($seen seen): not a test"
expect_eq "seen + dropped" $((seen + dropped)) $N
expect_eq "summary: every read counted" "$(tail -1 mon.json | jq -c ".indirect[] | select(.pid == $VMM_PID and .region == \"BAR0\") | [.reads.\"4\", .read_bytes, .errors]")" "[$N,$((4 * N)),0]"
stop $VMM_PID
