# The test VMM copies into edu BAR0 and ivshmem BAR2 with libc (every length of the hazard table,
# aligned and not, overlapping memmoves both ways, large copies, memset, a copy out of the BAR)
# and in ordinary memory. monitor --copies --libc reports each device copy once, at the right
# region and offset, with exactly the hazards calibrate measures for that case (routine, length,
# destination alignment, same page offset); copies in ordinary memory are never reported.
# timeout: 600
. "$VFG_TESTS/lib.sh"

export VFIOGUARD_CACHE_DIR=$PWD/cache
# SLOT OFF LEN HOW, as the test VMM takes them: slot 0 is edu BAR0, slot 1 ivshmem BAR2. edu
# takes only 4- and 8-byte accesses and on arm64 anything narrower is a bus error, so there slot
# 0 is a second mapping of ivshmem BAR2 (RAM behind it, any access size).
case $ARCH_NAME in
aarch64) maps="open $IVSHMEM map $IVSHMEM bar2 map $IVSHMEM bar2" slot0="$IVSHMEM BAR2" ;;
*) maps="open $EDU map $EDU bar0 open $IVSHMEM map $IVSHMEM bar2" slot0="$EDU BAR0" ;;
esac
cases="
0 0x10 1 memcpy
0 0x10 2 memcpy
0 0x11 3 memcpy
0 0x10 4 memcpy
0 0x13 4 memcpy
0 0x18 8 memcpy
0 0x20 15 memcpy
0 0x30 17 memcpy
1 0x100 16 memcpy
1 0x205 33 memcpy
1 0x300 64 memcpy
1 0x401 64 memmove
1 0x800 1024 memcpy
1 0x1800 2000 memcpy
1 0x3000 2 memset
1 0x3040 64 memset
1 0x3101 100 memset
"
actions=
n=0
for c in $(echo "$cases" | tr ' ' ':'); do
	actions="$actions copy $(echo $c | tr ':' ' ')"; n=$((n + 1))
done
# Overlapping memmoves inside BAR2: destination below the source, then above it.
actions="$actions move 1 0x5000 0x5010 300 move 1 0x6010 0x6000 300 copyout 1 0x20 8"
n=$((n + 3))
# Copies out of BAR2 of 1..16 bytes: what the device sees are the routine's loads.
for len in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
	actions="$actions copyout 1 $((0x7000 + len * 32)) $len"; n=$((n + 1))
done

rm -f ready go copied done
# After the copies in ordinary memory, a mapping made while watched (slot 2, ivshmem BAR2 again)
# and a copy into it: the calls outside the VFIO mappings known when watching began are answered
# without a VMA lookup (outside_spans), the new mapping widens them and its copy is reported.
vfg-testvmm $maps ready ready waitfile go \
	$actions ramcopy 64 ramcopy 3000 map $IVSHMEM bar2 copy 2 0x40 8 memcpy ready copied waitfile done \
	> vmm.out 2>&1 &
vmm=$!
watch_copies $vmm
touch go
# The VMM stays until monitor has reported everything: copies of a case measured after the
# process exited would have stacks nobody can name (its files are gone with it).
wait_ready copied $vmm 300
stop_monitor_expect mon.json 1
touch done
wait $vmm || fail "test VMM failed: $(cat vmm.out)"

jq -c 'select(.event == "copy")' mon.json > copies.json
expect_eq "device copies reported" "$(wc -l < copies.json)" $((n + 1))
expect_eq "copy into the mapping made while watched" \
	"$(jq -r 'select(.region_offset == 64 and .length == 8 and .direction == "write") | "\(.device) \(.region) \(.region_offset) \(.length)"' copies.json)" \
	"$IVSHMEM BAR2 64 8"
expect_eq "VFIO spans tracked" "$(tail -1 mon.json | jq .copies.spans)" true
# ramcopy: memcpy, memmove and memset twice, all in ordinary memory (and libc's own calls).
outside=$(tail -1 mon.json | jq '[.copies.targets[] | select(.target | startswith("libc")) | .outside_spans] | add')
[ "$outside" -ge 6 ] || fail "calls answered outside the VFIO spans: got $outside, want at least 6"
jq -c 'select((.region_offset == 64 and .length == 8 and .direction == "write") | not)' copies.json > rest.json
mv rest.json copies.json
jq -c 'select(.measured | not) | {routine, length, dst_align, region_offset, unmeasured_reason}' copies.json
expect_eq "every write measured" "$(jq -s 'map(select(.direction == "write") | .measured) | all' copies.json)" true
# A read is measured, or (SVE loads, which capstone 4 cannot decode) says why not.
expect_eq "reads measured or why not" \
	"$(jq -r 'select(.direction == "read" and (.measured | not)) | .unmeasured_reason' copies.json | grep -vc 'are not known: an instruction' || true)" 0
[ $ARCH_NAME != x86_64 ] ||
	expect_eq "every read measured" "$(jq -s 'map(.measured) | all' copies.json)" true
# Nothing outside the two BARs, and the right place for each copy in.
expect_eq "regions" "$(jq -r '"\(.device) \(.region)"' copies.json | sort -u | tr '\n' ' ')" \
	"$( (echo "$slot0"; echo "$IVSHMEM BAR2") | sort -u | tr '\n' ' ')"
i=0
for c in $(echo "$cases" | tr ' ' ':'); do
	set -- $(echo $c | tr ':' ' ')
	line=$(sed -n "$((i + 1))p" copies.json)
	want_region=${slot0#* }; [ $1 = 1 ] && want_region=BAR2
	expect_eq "case $c region" "$(printf '%s\n' "$line" | jq -r .region)" $want_region
	expect_eq "case $c offset" "$(printf '%s\n' "$line" | jq .region_offset)" $(($2))
	expect_eq "case $c length" "$(printf '%s\n' "$line" | jq .length)" $3
	expect_eq "case $c direction" "$(printf '%s\n' "$line" | jq -r .direction)" write
	i=$((i + 1))
done
expect_eq "forward move" "$(sed -n "$((i + 1))p" copies.json | jq -r '"\(.routine) \(.region_offset)"')" "memmove-forward $((0x5000))"
expect_eq "backward move" "$(sed -n "$((i + 2))p" copies.json | jq -r '"\(.routine) \(.region_offset)"')" "memmove-backward $((0x6010))"
expect_eq "copy out" "$(sed -n "$((i + 3))p" copies.json | jq -r '"\(.direction) \(.region_offset) \(.length)"')" "read 32 8"
expect_eq "copies out of 1..16 bytes" "$(sed -n "$((i + 4)),$((i + 19))p" copies.json | jq -r '"\(.direction):\(.length)"' | tr '\n' ' ')" \
	"$(for l in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do printf 'read:%d ' $l; done)"
# The user stack starts in libc's routine and returns into the test VMM.
expect_eq "stacks" "$(jq -r '.stack[1].symbol' copies.json | grep -c '(vfg-testvmm)')" $n

# Each copy's hazards are what calibrate measures for the same case: a write's its stores, a
# read's its loads. No aliasing window is cached here, so each source placement of a memcpy or
# memmove is its own case: calibrate measures it with the source where the copy had it.
jq -r '"\(.routine) \(.length) \(.dst_align) \(.case_page_delta) \(.distance // 0) \(.hazards // ["unmeasured"] | join(",")) \(.direction)"' copies.json > got.txt
expect_eq "each placement its own case" \
	"$(jq -r 'select(.page_delta != null) | .case_page_delta == .page_delta' copies.json | sort -u)" true
while read -r routine len align delta dist hz dir; do
	[ -n "$dir" ] || { dir=$hz; hz=none; }
	d=; [ "$dist" = 0 ] || d="--distance $dist"
	case $delta in
	null|far) p= ;; # far: calibrate's first case of memcpy and memmove
	far/*) p="--page-delta $((2048 + ${delta#far/}))" ;;
	*) p="--page-delta $delta" ;;
	esac
	vfioguard -j calibrate --routine $routine --lengths $len --aligns $align $d $p > cal.json ||
		fail "calibrate $routine $len $align $d $p"
	field=hazards; [ $dir = write ] || field=load_hazards
	want=$(jq -r ".cases[0].$field // \"unmeasured\"" cal.json)
	expect_eq "$dir: $routine of $len bytes at dst%64=$align (page delta $delta)" "$hz" "$want"
done < got.txt
expect_eq "overlap distances" "$(jq -r 'select(.distance) | .distance' copies.json | tr '\n' ' ')" "16 16 "
if [ $ARCH_NAME = x86_64 ]; then
	# Facts of DESIGN.md for this variant, as reported: 4 bytes dup, 3 bytes reorder.
	expect_eq "4-byte memcpy" "$(sed -n 4p got.txt | cut -d' ' -f6)" dup
	expect_eq "3-byte memcpy" "$(sed -n 3p got.txt | cut -d' ' -f6 | tr ',' '\n' | grep -c reorder)" 1
	# UC- on x86: dup, reorder and split are violations, wide and unaligned are not.
	expect_eq "violations of the 4-byte copy" "$(sed -n 4p copies.json | jq -c .violations)" '["dup"]'
	expect_eq "no violation for a 1-byte copy" "$(sed -n 1p copies.json | jq -c .violations)" '[]'
	# A 4-byte copy out of a register reads it twice: two reads with side effects.
	expect_eq "4-byte copy out" "$(sed -n "$((i + 7))p" copies.json | jq -c '[.length, .hazards]')" '[4,["dup"]]'
	libc_targets=2 # memcpy is memmove: one probe serves both
else
	# arm64 Device memory: every hazard is a violation, wide and unaligned included.
	expect_eq "violations are the hazards" "$(jq -c 'select(.direction == "write") | .violations == .hazards' copies.json | sort -u)" true
	expect_eq "a wide copy is a violation" "$(jq -s '[.[] | select(.violations | index("wide"))] | length > 0' copies.json)" true
	expect_eq "the 4-byte copy at +3 is unaligned, a violation" "$(sed -n 5p copies.json | jq -c '.violations | index("unaligned") != null')" true
	# The 1-byte copy: one SVE vector store where the CPU has SVE (QEMU's -cpu max), else
	# glibc's generic routine's three byte stores to one address (Neoverse N1-class cores, the
	# no-SVE guest): a duplicated store into a register, a violation, seen by the copy probe.
	if grep -qw sve /proc/cpuinfo; then one=wide; else one=dup; fi
	expect_eq "1-byte memcpy ($(grep -qw sve /proc/cpuinfo && echo SVE || echo no SVE))" \
		"$(sed -n 1p got.txt | cut -d' ' -f6)" $one
	expect_eq "1-byte memcpy's violations" "$(sed -n 1p copies.json | jq -c .violations)" "[\"$one\"]"
	libc_targets=3
fi
s=$(tail -1 mon.json)
expect_eq "summary counts every copy" "$(printf '%s\n' "$s" | jq '.copies.violations + .copies.clean + .copies.unmeasured')" $((n + 1))
expect_eq "libc targets" "$(printf '%s\n' "$s" | jq '[.copies.targets[] | select(.target | startswith("libc"))] | length')" $libc_targets
# Cases measured during the run were cached for the next one.
[ -s cache/hazards-*.tsv ] || fail "no hazard cache written"

# A USDT probe of the VMM (vfgtest:copy(dst, src, len) in the test VMM) instead of libc: the same
# cases, the same hazards, the probe site in the VMM's own code.
rm -f ready go copied done
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 ready ready waitfile go copy 0 0x11 3 memcpy \
	copy 0 0x10 4 memcpy ramcopy 64 sleep 1 > vmm2.out 2>&1 &
vmm=$!
wait_ready ready $vmm
start_monitor usdt.json --copies --pid $vmm -v \
	--usdt "$(command -v vfg-testvmm):vfgtest:copy:dst=arg0,src=arg1,len=arg2,like=memcpy"
wait_attached usdt.json.err $vmm
touch go
wait $vmm || fail "test VMM failed: $(cat vmm2.out)"
stop_monitor_expect usdt.json 1
jq -c 'select(.event == "copy")' usdt.json > u.json
expect_eq "usdt: copies" "$(jq -r '"\(.region_offset) \(.length) \(.hazards | join(","))"' u.json | tr '\n' ';')" \
	"17 3 $(sed -n 3p got.txt | cut -d' ' -f6);16 4 $(sed -n 4p got.txt | cut -d' ' -f6);"
expect_eq "usdt: target" "$(jq -r '.target | split(" ")[0]' u.json | sort -u)" usdt
expect_eq "usdt: probe site" "$(jq -r '.stack[0].symbol' u.json | grep -c '(vfg-testvmm)')" 2
