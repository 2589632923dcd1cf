# Only QEMU's RAM-device regions are probed. Next to the passed-through edu, QEMU emulates a
# second edu; the qemu profile attaches to the handlers of ram_device_mem_ops (found in the
# stripped binary through memory_region_init_ram_device_ptr), not to the MMIO dispatch that
# every emulated register access passes. N qtest accesses to the emulated edu's registers hit no
# probe; each access to the passed-through BAR is a probe hit and a reported copy.
# timeout: 300
. "$VFG_TESTS/lib.sh"

N=${VFG_EMULATED_ACCESSES:-10000}
EMU_GPA=$((EDU_GPA + 0x100000))
QEMU_EXTRA="-device edu,addr=03.0" start_qemu
sleep 2
expect_eq "register 0 (passed through)" "$(qtest_edu_reg0)" 0x010000ed
# The emulated edu (device 3) at EMU_GPA, memory decoding on.
case $ARCH_NAME in
aarch64) printf '%s\n' "writel 0x3f018010 $EMU_GPA" 'writew 0x3f018004 6' >&3 ;;
*) printf '%s\n' 'outl 0xcf8 0x80001810' "outl 0xcfc $EMU_GPA" 'outl 0xcf8 0x80001804' \
	'outw 0xcfc 6' >&3 ;;
esac
printf 'readl 0x%x\n' $EMU_GPA >&3
setup=$((2 * QTEST_SETUP + 2))
qtest_wait $setup
expect_eq "register 0 (emulated)" "$(printf '0x%08x' $(grep '^OK 0x' qtest.out | tail -1 | cut -d' ' -f2))" \
	0x010000ed

start_monitor mon.json --copies --pid $QEMU_PID -v
wait_attached mon.json.err $QEMU_PID
if grep -q "handlers not found" mon.json.err; then
	fail "the profile fell back to the dispatch: $(cat mon.json.err)"
fi
# N accesses to the emulated edu's liveness register, half writes, half reads; then three to the
# passed-through one.
awk -v n=$N -v a=$((EMU_GPA + 4)) 'BEGIN { for (i = 0; i < n; i++)
	if (i % 2) printf "readl 0x%x\n", a; else printf "writel 0x%x 0x%x\n", a, i }' >&3
printf '%s\n' "writel $(edu_gpa 4) 0x12345678" "readl $(edu_gpa 4)" "readl $(edu_gpa 0)" >&3
qtest_wait $((setup + N + 3))
expect_eq "liveness (passed through)" \
	"$(printf '0x%08x' $(grep '^OK 0x' qtest.out | tail -2 | head -1 | cut -d' ' -f2))" 0xedcba987
sleep 1
stop_monitor_expect mon.json 0

s=$(tail -1 mon.json)
expect_eq "targets" "$(printf '%s\n' "$s" | jq -r "[.copies.targets[] | select(.pid == $QEMU_PID) | .target] | sort | join(\",\")")" \
	"qemu address_space_map,qemu address_space_map (return),qemu address_space_unmap,qemu memory_region_ram_device_read,qemu memory_region_ram_device_write,qemu memory_region_ref (in a DMA map)"
expect_eq "probe hits (write, read)" "$(printf '%s\n' "$s" | jq -r "[.copies.targets[] | select(.pid == $QEMU_PID and (.target | contains(\"ram_device\")))] | sort_by(.target) | reverse | map(.hits) | join(\" \")")" "1 2"
expect_eq "regions: BAR0 mapped, not trapped" \
	"$(printf '%s\n' "$s" | jq -c ".regions[] | select(.pid == $QEMU_PID and .device == \"$EDU\" and .region == \"BAR0\") | [.mapped, .fd, .cache, .access]")" \
	"[true,false,\"$CACHE_BAR\",\"direct\"]"
expect_eq "no DMA map of device memory" "$(printf '%s\n' "$s" | jq -r ".copies.dma | length")" 0
jq -c 'select(.event == "copy")' mon.json > c.json
expect_eq "copies" "$(jq -r '"\(.direction) \(.region_offset) \(.length)"' c.json | tr '\n' ' ')" \
	"write 4 4 read 4 4 read 0 4 "
expect_eq "value written" "$(jq -r 'select(.direction == "write") | .value' c.json)" 0x12345678
expect_eq "region" "$(jq -r '"\(.device) \(.region) \(.cache)"' c.json | sort -u)" "$EDU BAR0 $CACHE_BAR"
echo "stacks:"; jq -c '[.stack[0:4][] | .symbol]' c.json
stop_qemu
