# A VMM maps a region, copies into it and exits, all while monitor is stopped: monitor reads its
# mmap after the process is gone. That is not a new process with the same PID (the process it
# watches is simply gone), so its copies are still reported with their stacks named.
. "$VFG_TESTS/lib.sh"

export VFIOGUARD_CACHE_DIR=$PWD/cache
rm -f ready go
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 ready ready waitfile go copy 0 0x100 16 memcpy \
	map $IVSHMEM bar2 copy 1 0x40 8 memcpy copy 1 0x205 33 memcpy > vmm.out 2>&1 &
vmm=$!
watch_copies $vmm
kill -STOP $MON_PID
touch go
wait $vmm || fail "test VMM failed: $(cat vmm.out)"
kill -CONT $MON_PID
n=0
until [ "$(events mon.json '.event == "copy"')" -ge 3 ]; do
	n=$((n + 1)); [ $n -lt 300 ] || fail "copies not reported: $(cat mon.json.err)"
	sleep 0.2
done
stop_monitor_expect mon.json 1
expect_eq "copies" "$(events mon.json '.event == "copy"')" 3
expect_eq "stacks named" "$(jq -r 'select(.event == "copy") | .stack[1].symbol' mon.json | grep -c '(vfg-testvmm)$')" 3
