# A long monitor --copies --libc sees VMMs come and go: 34 test VMMs, two at a time (a VFIO group
# is one process's), each map edu BAR0 or ivshmem BAR2 and make one 4-byte memcpy into it. Two probes per process exceed the 64 slots,
# so slots of exited processes are given to new ones: every process's copy is still reported,
# and the summary keeps the counts of the exited processes' probes.
# timeout: 300
. "$VFG_TESTS/lib.sh"

export VFIOGUARD_CACHE_DIR=$PWD/cache
start_monitor mon.json --copies --libc -v
i=0
while [ $i -lt 34 ]; do
	pids=
	for dev in "$EDU bar0" "$IVSHMEM bar2"; do
		[ $i -lt 34 ] || break
		vfg-testvmm open ${dev% *} map $dev sleep 3 copy 0 $((i * 16)) 4 memcpy \
			> vmm.$i.out 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait $p || fail "test VMM $p failed"; done
done
sleep 1
stop_monitor_expect mon.json 1
jq -c 'select(.event == "copy")' mon.json > copies.json
expect_eq "copies" "$(wc -l < copies.json)" 34
expect_eq "processes" "$(jq .pid copies.json | sort -u | wc -l)" 34
expect_eq "each a dup" "$(jq -r '.hazards | join(",")' copies.json | sort -u)" dup
s=$(tail -1 mon.json)
retired=$(echo "$s" | jq '[.copies.targets[] | select(.exited)] | length')
[ "$retired" -ge 4 ] || fail "retired targets: $retired, want at least 4: $(cat mon.json.err)"
expect_eq "memcpy hits of exited processes kept" \
	"$(echo "$s" | jq '[.copies.targets[] | select(.exited and (.target | contains("memcpy"))) | .device] | all(. == 1)')" true
