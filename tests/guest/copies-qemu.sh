# Real QEMU passes edu through; qtest writes and reads go through QEMU's memory core into the
# mmap'd BAR. monitor --copies (the qemu profile) reports each with QEMU's stack and the access
# model's hazards; under a policy that makes edu BAR0 `fixed`, the unaligned write is a
# violation and monitor exits 1.
# timeout: 240
# On arm64 the unaligned 4-byte write kills QEMU: its store into the BAR (Device-nGnRnE) is an
# alignment fault, SIGBUS (measured in the arm64 guest, 6.12). That case needs its own form there.
# arches: x86_64
. "$VFG_TESTS/lib.sh"

start_qemu
sleep 2
expect_eq "register 0" "$(qtest_edu_reg0)" 0x010000ed
cat > fixed.yaml <<POL
version: 1
mode: audit
default: direct
rules:
  - name: edu-fixed
    match:
      device: "$EDU"
      region: bar0
    access: fixed
POL
vfioguard policy apply fixed.yaml > apply.out 2>&1 || fail "apply: $(cat apply.out)"
trap 'vfioguard policy clear >/dev/null 2>&1' EXIT
start_monitor mon.json --copies --pid $QEMU_PID -v
wait_attached mon.json.err $QEMU_PID
printf '%s\n' "writel $(edu_gpa 0x10) 0x12345679" "write $(edu_gpa 0x11) 4 0x01020304" \
	"writeq $(edu_gpa 0x20) 0x1122334455667788" "readl $(edu_gpa 4)" >&3
_n=0
while [ "$(grep -c '^OK' qtest.out)" -lt $((QTEST_SETUP + 5)) ]; do
	_n=$((_n + 1)); [ $_n -lt 300 ] || fail "qtest did not answer: $(cat qtest.out)"
	sleep 0.1
done
sleep 1
stop_monitor_expect mon.json 1

# audit --copies: a bounded watch of the running VMM, one report.
vfioguard -j -v audit --copies --duration 20 > audit.json 2> audit.err &
apid=$!
# Write once its probes are in QEMU (-v says so), however slow the snapshot was.
wait_attached audit.err $QEMU_PID $apid 150
printf '%s\n' "write $(edu_gpa 0x11) 4 0x01020304" "writel $(edu_gpa 0x10) 0x1" >&3
set +e; wait $apid; rc=$?; set -e
expect_eq "audit --copies exit status" $rc 1
expect_eq "audit mappings" "$(jq "[.mappings[] | select(.pid == $QEMU_PID and .region == \"BAR0\")] | length" audit.json)" 1
expect_eq "audit copies" "$(jq -c "[.copies.by_region[] | select(.pid == $QEMU_PID and .direction == \"write\") | [.hazards, .violation, .copies]]" audit.json)" '[["unaligned",true,1],["none",false,1]]'
stop_qemu

jq -c 'select(.event == "copy" and .direction == "write")' mon.json > w.json
jq -c 'select(.event == "copy" and .direction == "read")' mon.json > r.json
expect_eq "writes" "$(wc -l < w.json)" 3
expect_eq "write offsets" "$(jq -r .region_offset w.json | tr '\n' ' ')" "16 17 32 "
expect_eq "write sizes" "$(jq -r .length w.json | tr '\n' ' ')" "4 4 8 "
expect_eq "write hazards" "$(jq -c .hazards w.json | tr '\n' ' ')" '[] ["unaligned"] [] '
expect_eq "write violations" "$(jq -c .violations w.json | tr '\n' ' ')" '[] ["unaligned"] [] '
expect_eq "access class" "$(jq -r '"\(.access) \(.rule)"' w.json | sort -u)" "fixed 'edu-fixed'"
expect_eq "values" "$(jq -r .value w.json | tr '\n' ' ')" "0x12345679 0x4030201 0x1122334455667788 "
expect_eq "stack" "$(jq -r '.stack[0].symbol' w.json | sort -u)" "memory_region_dispatch_write+0 ($QEMU_BIN)"
expect_eq "region" "$(jq -r '"\(.device) \(.region) \(.cache)"' w.json | sort -u)" "$EDU BAR0 $CACHE_BAR"
expect_eq "read" "$(jq -r '"\(.region_offset) \(.length) \(.stack[1].symbol | split("+")[0])"' r.json | tail -1)" \
	"4 4 flatview_read_continue"
s=$(tail -1 mon.json)
expect_eq "summary violations" "$(echo "$s" | jq .copies.violations)" 1
