# Real QEMU passes edu through; qtest writes and reads go through QEMU's memory core into the
# mmap'd BAR. monitor --copies (the qemu profile) reports each with QEMU's stack and the access
# model's hazards; under a policy that makes edu BAR0 `fixed`, the unaligned write is a
# violation and monitor exits 1.
# On arm64 the unaligned 4-byte write kills QEMU with SIGBUS: edu takes only aligned 4- and 8-byte
# accesses, and its refusal reaches the CPU as a synchronous external abort (cache-modes measures
# it with the same store, and that the same store into RAM behind a Device-nGnRnE BAR is done; on
# x86_64 edu drops it without a fault). There it is made last, QEMU's death by SIGBUS is asserted,
# and the probe at the RAM-device handler has reported the write before the store.
# timeout: 240
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
apply_policy fixed.yaml
clear_at_exit
start_monitor mon.json --copies --pid $QEMU_PID -v
wait_attached mon.json.err $QEMU_PID
unaligned="write $(edu_gpa 0x11) 4 0x01020304"
# expect_sigbus: on arm64, QEMU has just been sent the unaligned write; edu's refusal must kill it
# (SIGBUS).
expect_sigbus() {
	set +e; wait $QEMU_PID; _rc=$?; set -e
	exec 3>&-
	expect_eq "QEMU killed by edu refusing the unaligned write (SIGBUS)" "$(kill -l $((_rc - 128)) 2>/dev/null)" BUS
}
if [ $ARCH_NAME = aarch64 ]; then
	printf '%s\n' "writel $(edu_gpa 0x10) 0x12345679" "writeq $(edu_gpa 0x20) 0x1122334455667788" \
		"readl $(edu_gpa 4)" "$unaligned" >&3
	expect_sigbus
	expect_eq "qtest answers before the fault" "$(grep -c '^OK' qtest.out)" $((QTEST_SETUP + 4))
	order="16 32 17 " sizes="4 8 4 " hazards='[] [] ["unaligned"] '
	values="0x12345679 0x1122334455667788 0x4030201 "
else
	printf '%s\n' "writel $(edu_gpa 0x10) 0x12345679" "$unaligned" \
		"writeq $(edu_gpa 0x20) 0x1122334455667788" "readl $(edu_gpa 4)" >&3
	qtest_wait $((QTEST_SETUP + 5))
	order="16 17 32 " sizes="4 4 8 " hazards='[] ["unaligned"] [] '
	values="0x12345679 0x4030201 0x1122334455667788 "
fi
sleep 1
stop_monitor_expect mon.json 1
if [ $ARCH_NAME = aarch64 ]; then
	start_qemu
	sleep 2
	expect_eq "register 0 (QEMU again)" "$(qtest_edu_reg0)" 0x010000ed
fi

# audit --copies: a bounded watch of the running VMM, one report.
vfioguard -j -v audit --copies --duration 20 > audit.json 2> audit.err &
apid=$!
# Write once its probes are in QEMU (-v says so), however slow the snapshot was.
wait_attached audit.err $QEMU_PID $apid 150
if [ $ARCH_NAME = aarch64 ]; then
	printf '%s\n' "writel $(edu_gpa 0x10) 0x1" "$unaligned" >&3
	expect_sigbus
else
	printf '%s\n' "$unaligned" "writel $(edu_gpa 0x10) 0x1" >&3
fi
set +e; wait $apid; rc=$?; set -e
expect_eq "audit --copies exit status" $rc 1
expect_eq "audit mappings" "$(jq "[.mappings[] | select(.pid == $QEMU_PID and .region == \"BAR0\")] | length" audit.json)" 1
expect_eq "audit copies" "$(jq -c "[.copies.by_region[] | select(.pid == $QEMU_PID and .direction == \"write\") | [.hazards, .violation, .copies]] | sort" audit.json)" '[["none",false,1],["unaligned",true,1]]'
[ $ARCH_NAME = aarch64 ] || stop_qemu

jq -c 'select(.event == "copy" and .direction == "write")' mon.json > w.json
jq -c 'select(.event == "copy" and .direction == "read")' mon.json > r.json
expect_eq "writes" "$(wc -l < w.json)" 3
expect_eq "write offsets" "$(jq -r .region_offset w.json | tr '\n' ' ')" "$order"
expect_eq "write sizes" "$(jq -r .length w.json | tr '\n' ' ')" "$sizes"
expect_eq "write hazards" "$(jq -c .hazards w.json | tr '\n' ' ')" "$hazards"
expect_eq "write violations" "$(jq -c .violations w.json | tr '\n' ' ')" "$hazards"
expect_eq "access class" "$(jq -r '"\(.access) \(.rule)"' w.json | sort -u)" "fixed 'edu-fixed'"
expect_eq "values" "$(jq -r .value w.json | tr '\n' ' ')" "$values"
# The probe is on QEMU's RAM-device handler, which no symbol names in a stripped QEMU: the
# profile names it (copies-qemu-ram-device checks that emulated devices hit no probe).
expect_eq "stack" "$(jq -r '.stack[0].symbol' w.json | sort -u)" "memory_region_ram_device_write+0 ($QEMU_BIN)"
expect_eq "region" "$(jq -r '"\(.device) \(.region) \(.cache)"' w.json | sort -u)" "$EDU BAR0 $CACHE_BAR"
expect_eq "read" "$(jq -r '"\(.region_offset) \(.length) \(.stack[0].symbol | split("+")[0])"' r.json | tail -1)" \
	"4 4 memory_region_ram_device_read"
s=$(tail -1 mon.json)
expect_eq "summary violations" "$(printf '%s\n' "$s" | jq .copies.violations)" 1
