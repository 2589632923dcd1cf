# The hazards of a case missing from the table are measured by a worker thread while events keep
# flowing. A test VMM copies 64 KiB into ivshmem BAR2 (a case nobody measured yet), then makes
# 2000 copies of 8 bytes (a case measured just before): monitor --copies --libc reports 8-byte
# copies while the 64 KiB case is being measured (they come before it), drops none of them (the
# 1 MiB ring holds about 3 400), and reports the 64 KiB copy with its measured hazards once the
# case is measured.
# timeout: 600
. "$VFG_TESTS/lib.sh"

export VFIOGUARD_CACHE_DIR=$PWD/cache
rm -f ready ready2 go go2
# The first copy measures the 8-byte case; the 2000 after the 64 KiB one are the same case (the
# same destination, and the same heap block as the source: malloc hands the freed one back).
burst=$(for i in $(seq 2000); do printf ' copy 0 0x100 8 memcpy'; done)
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 ready ready waitfile go copy 0 0x100 8 memcpy \
	ready ready2 waitfile go2 copy 0 0x10000 65536 memcpy $burst sleep 1 > vmm.out 2>&1 &
vmm=$!
watch_copies $vmm
touch go
wait_ready ready2 $vmm
n=0
until [ "$(events mon.json '.event == "copy" and .length == 8')" -ge 1 ]; do
	kill -0 $MON_PID || fail "monitor exited: $(cat mon.json.err)"
	n=$((n + 1)); [ $n -lt 1200 ] || fail "the first 8-byte copy was not reported: $(cat mon.json.err)"
	sleep 0.1
done
touch go2
wait $vmm || fail "test VMM: $(cat vmm.out)"
stop_monitor_expect mon.json 1

jq -r 'select(.event == "copy") | .length' mon.json > lengths.txt
expect_eq "8-byte copies reported" "$(grep -c '^8$' lengths.txt)" 2001
expect_eq "64 KiB copies reported" "$(grep -c '^65536$' lengths.txt)" 1
at=$(grep -n '^65536$' lengths.txt | cut -d: -f1)
note "the 64 KiB copy is copy event $at of $(wc -l < lengths.txt)"
[ "$at" -gt 2 ] || fail "no 8-byte copy of the loop was reported before the 64 KiB case was measured (event $at)"
expect_eq "64 KiB copy measured" "$(jq -r 'select(.event == "copy" and .length == 65536) | .measured' mon.json)" true
expect_eq "copies dropped" "$(tail -1 mon.json | jq '[.copies.targets[].dropped] | add')" 0
expect_eq "cases measured" "$(tail -1 mon.json | jq .copies.cases_measured)" 2
grep -q "not reported" mon.json.err && fail "copies left unreported: $(cat mon.json.err)"
true
