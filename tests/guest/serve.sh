# vfioguard serve: puts the policy in force, watches a test VMM map, fault, read through the
# fd and copy into its BARs with libc (probes attached from its VFIO open; a reused PID watched
# again; the fd counts of exited processes kept by name and deleted from the kernel), and
# serves metrics that promtool accepts, with the values monitor and audit report for the same
# activity; SIGHUP with a bad file keeps the generation in force, with a good one moves to the
# next; a device that appears is resolved at once; a taken port and a missing policy are errors
# (exit 2); SIGTERM leaves the policy in force.
# timeout: 400
. "$VFG_TESTS/lib.sh"

export VFIOGUARD_CACHE_DIR=$PWD/cache
promtool=$VFG_TOP/build/vm/tools-$VFG_ARCH/promtool
[ -x "$promtool" ] || fail "no promtool at $promtool (tests/vm/prepare fetches it)"
port=19747
policy enforce fixed \
	edu-bar0-testvmm trap "device: \"$EDU\", region: bar0, comm: \"vfg-*\"" \
	ivshmem-bar2 direct "device: \"$IVSHMEM\", region: bar2" > p.yaml
clear_at_exit SV HOLD SLOW

start_serve --policy "$PWD/p.yaml" --listen 127.0.0.1:$port --textfile "$PWD/m.prom" \
	--interval 1 --libc
[ -s m.prom ] || fail "no textfile after the start"
gen=$(vfioguard -j policy show | jq .generation)
[ "$gen" -ge 1 ] || fail "no policy in force after serve started"

# metric NAME{LABELS}: its value in a fresh scrape (empty when absent).
scrape() { busybox wget -q -O scrape.txt "http://127.0.0.1:$port/metrics" || fail "scrape failed"; }
metric() { awk -v k="$1" '$1 == k { print $2 }' scrape.txt; }
# until_metric NAME{LABELS} VALUE: scrapes until it shows VALUE (the interval is 1 s).
until_metric() {
	n=0
	while scrape && [ "$(metric "$1")" != "$2" ]; do
		n=$((n + 1)); [ $n -lt 120 ] || fail "$1 is '$(metric "$1")', want $2"
		sleep 0.5
	done
}

# Every rule of the policy in force has its decision series from the start, at 0 (an alert on
# increase() sees the first denial): ivshmem-bar2 never denies.
scrape
expect_eq "a rule's denials before any" \
	"$(metric 'vfioguard_mmap_decisions_total{decision="denied",rule="ivshmem-bar2"}')" 0
expect_eq "the default's denials before any" \
	"$(metric 'vfioguard_mmap_decisions_total{decision="denied",rule="(default)"}')" 0

start_monitor mon.json
rc=0
vfg-testvmm open $EDU map $EDU bar0 > vmm1.out 2>&1 || rc=$?
expect_eq "edu BAR0 refused to the test VMM" $rc 1
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 touch 0 0 0x3000 preadn 10 $IVSHMEM bar2 0 4 \
	> vmm2.out 2>&1 || fail "ivshmem: $(cat vmm2.out)"
stop_monitor mon.json

l_bar2="device=\"$IVSHMEM\",region=\"BAR2\""
until_metric "vfioguard_fd_accesses_total{$l_bar2,comm=\"vfg-testvmm\",direction=\"read\"}" 10
"$promtool" check metrics < scrape.txt > promtool.out 2>&1 || fail "promtool: $(cat promtool.out)"
"$promtool" check metrics < m.prom > promtool.out 2>&1 || fail "promtool (textfile): $(cat promtool.out)"

# The same activity as monitor saw it.
# The faults of an unmapped mapping come with its unmap event, which serve may read after the
# fd counts it takes from the kernel at each update (attaching copy probes delays its events).
mon_faults=$(tail -1 mon.json | jq "[.mappings[] | select(.comm == \"vfg-testvmm\" and .region == \"BAR2\") | .faults | .pte + .pmd + .pud + .other] | add")
[ "$mon_faults" -ge 1 ] || fail "monitor saw no faults: $(tail -1 mon.json)"
n=0
while sv_faults=$(awk -v p="vfioguard_faults_total{$l_bar2," 'index($1, p) == 1 { s += $2 } END { print s + 0 }' scrape.txt)
	[ "$sv_faults" != "$mon_faults" ]; do
	n=$((n + 1)); [ $n -lt 60 ] || break
	sleep 0.5; scrape
done
expect_eq "BAR2 faults, serve against monitor" "$sv_faults" "$mon_faults"
mon_reads=$(tail -1 mon.json | jq "[.indirect[] | select(.comm == \"vfg-testvmm\" and .region == \"BAR2\") | .reads | add] | add")
expect_eq "BAR2 fd reads, monitor" "$mon_reads" 10
expect_eq "BAR2 fd bytes" "$(metric "vfioguard_fd_access_bytes_total{$l_bar2,comm=\"vfg-testvmm\",direction=\"read\"}")" 40
decisions="serve: $(grep '^vfioguard_mmap' scrape.txt | tr '\n' ' ') monitor: $(jq -c 'select(.event == "policy") | [.comm, .decision, .rule, .region]' mon.json | tr '\n' ' ')"
for d in "denied edu-bar0-testvmm" "allowed ivshmem-bar2"; do
	set -- $d
	mon=$(events mon.json ".event == \"policy\" and .comm == \"vfg-testvmm\" and .decision == \"$1\" and .rule == \"$2\"")
	expect_eq "monitor: $1 by $2 ($decisions)" "$mon" 1
	expect_eq "serve: $1 by $2 ($decisions)" "$(metric "vfioguard_mmap_decisions_total{decision=\"$1\",rule=\"$2\"}")" 1
done
[ "$(metric 'vfioguard_mmaps_total{decision="denied"}')" -ge 1 ] || fail "no denied mmap in the kernel's count"
expect_eq "generation" "$(metric vfioguard_policy_generation)" "$gen"
expect_eq "enforced" "$(metric vfioguard_policy_enforced)" 1
expect_eq "no mapping left" "$(awk -v p="vfioguard_mappings{$l_bar2," 'index($1, p) == 1 { s += $2 } END { print s + 0 }' scrape.txt)" 0
# The mode BAR2 was mapped with, against the verdict's assumption (as policy show compares them).
expect_eq "BAR2 cache mode matches the assumption" \
	"$(metric "vfioguard_region_cache_mode_mismatch{$l_bar2,assumed=\"$CACHE_BAR\",mapped=\"$CACHE_BAR\"}")" 0

# A second process of the same name reads BAR2 through its fd and exits: still one series, the
# sum of both; serve then deletes the exited processes' entries from the kernel's fd counts
# (monitor has stopped: serve's is the only such table) and the sum stays.
vfg-testvmm open $IVSHMEM preadn 5 $IVSHMEM bar2 0 4 > vmm3.out 2>&1 || fail "reads: $(cat vmm3.out)"
s_reads="vfioguard_fd_accesses_total{$l_bar2,comm=\"vfg-testvmm\",direction=\"read\"}"
until_metric "$s_reads" 15
expect_eq "one series for both processes" "$(awk -v k="$s_reads" '$1 == k' scrape.txt | wc -l)" 1
rw_ids=$(bpftool -j map show | jq '[.[] | select(.name == "rw_stats") | .id]')
expect_eq "fd count tables" "$(printf '%s\n' "$rw_ids" | jq length)" 1
n=0
while left=$(bpftool -j map dump id "$(printf '%s\n' "$rw_ids" | jq '.[0]')" | jq length)
	[ "$left" != 0 ]; do
	n=$((n + 1)); [ $n -lt 60 ] || fail "$left fd count entries of exited processes left"
	sleep 0.5
done
scrape
expect_eq "the sum after the entries went" "$(metric "$s_reads")" 15
"$promtool" check metrics < scrape.txt > promtool.out 2>&1 || fail "promtool: $(cat promtool.out)"

# A process names itself with bytes that are not UTF-8 ("vmm" ff fe c3): the scrape stays valid
# (Prometheus rejects a whole scrape over one invalid label value), the bytes shown as \xNN.
vfg-testvmm name 766d6dfffec3 open $IVSHMEM preadn 3 $IVSHMEM bar2 0 4 > vmm4.out 2>&1 ||
	fail "reads as vmm\\xff\\xfe\\xc3: $(cat vmm4.out)"
n=0
until scrape && grep -qF "comm=\"vmm\\\\xff\\\\xfe\\\\xc3\",direction=\"read\"} 3" scrape.txt; do
	n=$((n + 1)); [ $n -lt 120 ] || fail "no series for the raw name: $(grep '^vfioguard_fd_accesses' scrape.txt)"
	sleep 0.5
done
"$promtool" check metrics < scrape.txt > promtool.out 2>&1 ||
	fail "promtool with a raw process name: $(cat promtool.out)"

# Under abuse: 2000 slow clients from another loopback address (a request line, then nothing)
# do not keep a scrape from answering within a second (libmicrohttpd's select loop stopped at
# 1024 descriptors); other methods than GET and HEAD get 405; the log is not flooded.
vfg-slowclients 127.0.0.2 127.0.0.1 $port 2000 60 > slow.out 2>&1 &
SLOW=$!
wait_for $SLOW 600 slow.out "slow clients connected" grep -q '^held' slow.out
note "slow clients: $(cat slow.out)"
t0=$(date +%s%N)
timeout 5 busybox wget -q -O scrape2.txt "http://127.0.0.1:$port/metrics" ||
	fail "no scrape with 2000 slow clients connected"
ms=$((($(date +%s%N) - t0) / 1000000))
note "scrape with 2000 slow clients: $ms ms"
[ $ms -lt 1000 ] || fail "the scrape took $ms ms with 2000 slow clients connected"
grep -q '^vfioguard_policy_generation ' scrape2.txt || fail "scrape under abuse: $(head -5 scrape2.txt)"
kill $SLOW; wait $SLOW || true; SLOW=
rc=0; busybox wget -q -O post.txt --post-data=x "http://127.0.0.1:$port/metrics" > post.out 2>&1 || rc=$?
[ $rc != 0 ] && grep -q 405 post.out || fail "POST: status $rc, $(cat post.out)"
# About 1 970 connections were refused over the per-address limit: a line at most each 10 s.
lines=$(grep -c 'serve: http:' serve.err || true)
note "libmicrohttpd's lines in the log: $lines"
[ "$lines" -lt 20 ] || fail "the log is flooded: $lines lines"


# A mapping held: the gauge, against audit.
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 ready held waitfile go > hold.out 2>&1 &
HOLD=$!
wait_for $HOLD 600 hold.out "mapping by the test VMM" test -s held
until_metric "vfioguard_mappings{$l_bar2,cache=\"$CACHE_BAR\",access=\"direct\"}" 1
expect_eq "audit's mappings of BAR2" "$(vfioguard -j audit | jq "[.mappings[] | select(.device == \"$IVSHMEM\" and .region == \"BAR2\")] | length")" 1
touch go
wait $HOLD || fail "holding VMM: $(cat hold.out)"
HOLD=
until_metric "vfioguard_mappings{$l_bar2,cache=\"$CACHE_BAR\",access=\"direct\"}" ""

# Copies: a test VMM's libc copies into ivshmem BAR2 (rule ivshmem-bar2, direct: the verdict
# depends on the cache mode and the routine's stores, which differ by arch) and BAR0 (the
# default, fixed: a 4-byte memcpy is two overlapping stores on x86_64, one SVE vector store
# on arm64 with SVE: a violation either way), as serve and monitor --copies count them. serve
# attaches the probes when it sees the mapping.
rm -f ready
start_monitor mon2.json --copies --libc -v
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 map $IVSHMEM bar0 ready ready waitfile go2 \
	copy 0 0x100 8 memcpy copy 0 0x200 8 memcpy copy 1 0 4 memcpy > vmm4.out 2>&1 &
vmm4=$!
wait_ready ready $vmm4
wait_attached serve.err $vmm4 $SV
wait_attached mon2.json.err $vmm4
touch go2
wait $vmm4 || fail "copying VMM: $(cat vmm4.out)"
stop_monitor_expect mon2.json 1
# monitor's rows of this process: region, hazards, verdict, count.
tail -1 mon2.json | jq -r ".copies.by_region[] | select(.pid == $vmm4) |
	\"\\(.region) \\(.hazards) \\(if .violation then \"violation\" else \"ok\" end) \\(.copies) \\(.bytes)\"" |
	sort > mon-copies.txt
expect_eq "monitor's copy rows ($(cat mon-copies.txt | tr '\n' ' '))" "$(wc -l < mon-copies.txt)" 2
grep -q '^BAR0 [a-z,]* violation 1 4$' mon-copies.txt || fail "monitor: no BAR0 violation: $(cat mon-copies.txt)"
grep -q '^BAR2 [a-z,]* [a-z]* 2 16$' mon-copies.txt || fail "monitor: BAR2 copies: $(cat mon-copies.txt)"
while read -r region hz verdict count bytes; do
	l="device=\"$IVSHMEM\",region=\"$region\",comm=\"vfg-testvmm\",direction=\"write\",hazards=\"$hz\",verdict=\"$verdict\""
	until_metric "vfioguard_copies_total{$l}" "$count"
	expect_eq "serve: bytes of $region copies" "$(metric "vfioguard_copy_bytes_total{$l}")" "$bytes"
done < mon-copies.txt
expect_eq "serve: every copy series" "$(awk '$1 ~ /^vfioguard_copies_total\{/ { s += $2 } END { print s + 0 }' scrape.txt)" 3
expect_eq "serve: copy events dropped" "$(metric 'vfioguard_events_dropped_total{source="copies"}')" 0
"$promtool" check metrics < scrape.txt > promtool.out 2>&1 || fail "promtool (copies): $(cat promtool.out)"

# A PID reused by a new process is watched as the new process: the next fork is given the
# copying VMM's PID (ns_last_pid), and that process's copy into BAR0 is counted too.
l_bar0=$(awk '$1 ~ /^vfioguard_copies_total\{/ && /region="BAR0"/ { sub(/^vfioguard_copies_total/, "", $1); print $1 }' scrape.txt)
n=0
while :; do
	echo $((vmm4 - 1)) > /proc/sys/kernel/ns_last_pid
	vfg-testvmm open $IVSHMEM map $IVSHMEM bar0 ready ready5 waitfile go5 copy 0 0 4 memcpy \
		> vmm5.out 2>&1 &
	vmm5=$!
	[ $vmm5 -ne $vmm4 ] || break
	kill $vmm5; wait $vmm5 2>/dev/null || true
	n=$((n + 1)); [ $n -lt 20 ] || fail "no fork was given PID $vmm4 again"
done
wait_ready ready5 $vmm5
n=0
until [ "$(grep -c "serve: pid $vmm4: .* probes attached" serve.err)" -ge 2 ]; do
	n=$((n + 1)); [ $n -lt 600 ] || fail "PID $vmm4 reused: not watched again: $(cat serve.err)"
	sleep 0.1
done
touch go5
wait $vmm5 || fail "second VMM with PID $vmm4: $(cat vmm5.out)"
until_metric "vfioguard_copies_total$l_bar0" 2

# Watched from its VFIO open: the probes of a VMM that has opened a device but mapped nothing
# are attached (serve says so while it waits), and its copy right after its mmap is counted.
vfg-testvmm open $IVSHMEM ready ready6 waitfile go6 map $IVSHMEM bar0 copy 0 0 4 memcpy \
	> vmm6.out 2>&1 &
vmm6=$!
wait_ready ready6 $vmm6
wait_attached serve.err $vmm6 $SV
touch go6
wait $vmm6 || fail "VMM copying right after its mmap: $(cat vmm6.out)"
until_metric "vfioguard_copies_total$l_bar0" 3

# SIGHUP: a file with errors leaves the generation in force; a good one is the next.
cp p.yaml good.yaml
echo "rules: [" > p.yaml
kill -HUP $SV
until_metric vfioguard_policy_reload_failures_total 1
expect_eq "generation after a bad reload" "$(metric vfioguard_policy_generation)" "$gen"
grep -q "p.yaml:.*error" serve.err || fail "the bad file's error is not logged: $(cat serve.err)"
grep -q "not applied; generation $gen stays in force" serve.err || fail "no refusal logged: $(cat serve.err)"
cp good.yaml p.yaml
kill -HUP $SV
until_metric vfioguard_policy_generation $((gen + 1))

# Hot-plug: a device that appears is resolved for the device matchers at once, from the policy
# in force, without a SIGHUP. edu is removed, the policy applied without it (no verdict of its
# own: the default would let its BAR0 be mapped), then found again by a rescan and bound to
# vfio-pci by its ID: the test VMM is refused its BAR0 as before.
echo 1 > /sys/bus/pci/devices/$EDU/remove
kill -HUP $SV
until_metric vfioguard_policy_generation $((gen + 2))
echo 1 > /sys/bus/pci/rescan
wait_for $SV 600 serve.err "re-resolution after the rescan" \
	grep -q "PCI device $EDU bound to vfio-pci: the policy in force resolved for it" serve.err
note "$(grep 'PCI device' serve.err | tr '\n' ' ')"
rc=0; vfg-testvmm open $EDU map $EDU bar0 > vmm3.out 2>&1 || rc=$?
expect_eq "edu BAR0 refused after the hot-plug" $rc 1
scrape
hp_gen=$(metric vfioguard_policy_generation)
[ "$hp_gen" -gt $((gen + 2)) ] || fail "the hot-plug did not apply a generation: $hp_gen"

# A taken port, a missing policy: errors, exit 2.
rc=0; vfioguard serve --policy "$PWD/p.yaml" --listen 127.0.0.1:$port > taken.out 2>&1 || rc=$?
expect_eq "second serve on the same port" $rc 2
grep -q "127.0.0.1:$port: Address already in use" taken.out || fail "port in use: $(cat taken.out)"
rc=0; vfioguard serve --policy "$PWD/none.yaml" > none.out 2>&1 || rc=$?
expect_eq "missing policy" $rc 2
grep -q "none.yaml: No such file" none.out || fail "missing policy: $(cat none.out)"

# With no monitor reading the decisions ring, 10 000 allowed mmaps are counted by their rule and
# nothing is dropped (the ring used to fill after about 2 700 and count a drop at every mmap).
scrape
before=$(metric 'vfioguard_mmap_decisions_total{decision="allowed",rule="ivshmem-bar2"}')
vfg-testvmm open $IVSHMEM mmaploop 10000 $IVSHMEM bar2 > loop.out 2>&1 || fail "mmap loop: $(cat loop.out)"
until_metric 'vfioguard_mmap_decisions_total{decision="allowed",rule="ivshmem-bar2"}' $((${before:-0} + 10000))
expect_eq "decisions dropped after 10 000 mmaps" "$(metric 'vfioguard_events_dropped_total{source="policy"}')" 0

# exe rules follow their path: a VMM binary replaced the way dpkg replaces it (a new file renamed
# over it: a new inode) is matched again once serve has resolved the policy for it. Before, the
# rule kept the old inode, and the new binary's mmap of edu BAR0 was allowed (default fixed).
mkdir -p /tmp/vmmbin
cp "$(command -v vfg-testvmm)" /tmp/vmmbin/vmm
cat >> p.yaml <<YAML
  - name: edu-bar0-vmm-binary
    match: {device: "$EDU", region: bar0, exe: /tmp/vmmbin/vmm}
    access: trap
YAML
g=$(metric vfioguard_policy_generation)
kill -HUP $SV
until_metric vfioguard_policy_generation $((g + 1))
rc=0; /tmp/vmmbin/vmm open $EDU map $EDU bar0 > exe1.out 2>&1 || rc=$?
expect_eq "edu BAR0 to the binary the rule names" $rc 1
cp /tmp/vmmbin/vmm /tmp/vmmbin/vmm.dpkg-new
mv /tmp/vmmbin/vmm.dpkg-new /tmp/vmmbin/vmm
until_metric vfioguard_policy_generation $((g + 2))
grep -q "/tmp/vmmbin/vmm was replaced: the policy in force resolved for its new file" serve.err ||
	fail "the replacement is not logged: $(tail -5 serve.err)"
rc=0; /tmp/vmmbin/vmm open $EDU map $EDU bar0 > exe2.out 2>&1 || rc=$?
expect_eq "edu BAR0 to the replaced binary" $rc 1
grep -q "Operation not permitted" exe2.out || fail "not refused by the policy: $(cat exe2.out)"
hp_gen=$((g + 2))

# SIGTERM: serve ends, the policy stays in force.
kill -TERM $SV
rc=0; wait $SV || rc=$?
SV=
expect_eq "serve exit status after SIGTERM" $rc 0
expect_eq "policy in force after serve" "$(vfioguard -j policy show | jq .generation)" $hp_gen
