# What issue-level users hit when a guest puts an I/O buffer in a passed-through BAR: QEMU 7.2
# maps such a buffer (a RAM-device region, never "direct") through its one bounce buffer of at
# most a page. Real QEMU, ivshmem BAR2 passed through, an emulated legacy virtio-blk driven by
# qtest (no guest CPU): a write request whose data lies in the BAR is bounced and completes;
# with two data descriptors in the BAR (or one longer than a page) the second map finds the
# bounce buffer busy, QEMU reports "virtio: bogus descriptor or out of resources" and the device
# stops (a legacy device is marked broken: no request of it completes); the same request with its data in guest RAM completes.
# One `monitor --copies` watches the four QEMUs and reports each DMA map of the BAR (bounced,
# with its region and offset), each failed map (with the map that holds the bounce buffer), and
# nothing for the request in RAM; its summary counts them per process and region.
# timeout: 360
. "$VFG_TESTS/lib.sh"

case $ARCH_NAME in
aarch64)
	RAM=0x40000000 BAR2_GPA=0x11000000 IO=0x1000 CFG_CMDS=1
	# Config space through the ECAM; the I/O window at 0x3eff0000 (hw/arm/virt.c, highmem=off).
	cfg() { printf 'write%s 0x%x %s\n' $1 $((0x3f000000 + ($2 << 15) + $3)) $4 >&3; }
	io_out() { printf 'write%s 0x%x %s\n' $1 $((0x3eff0000 + IO + $2)) $3 >&3; }
	io_in() { printf 'read%s 0x%x\n' $1 $((0x3eff0000 + IO + $2)) >&3; } ;;
*)
	RAM=0 BAR2_GPA=0xe1000000 IO=0xc000 CFG_CMDS=2
	cfg() {
		printf 'outl 0xcf8 0x%x\n' $((0x80000000 | ($2 << 11) | ($3 & ~3))) >&3
		case $1 in l) printf 'outl 0xcfc %s\n' $4 >&3 ;; w) printf 'outw 0x%x %s\n' $((0xcfc + ($3 & 3))) $4 >&3 ;; esac
	}
	io_out() { printf 'out%s 0x%x %s\n' $1 $((IO + $2)) $3 >&3; }
	io_in() { printf 'in%s 0x%x\n' $1 $((IO + $2)) >&3; } ;;
esac
a() { printf '0x%x' $(($*)); }
VRING=$((RAM + 0x100000)) HDR=$((RAM + 0x200000)) STATUS=$((RAM + 0x200100))
DATA_RAM=$((RAM + 0x300000))

# One QEMU per case: a device stopped by virtio_error stays stopped.
# run_case NAME DESCS: DESCS are "GPA:LEN" data buffers of one VIRTIO_BLK_T_OUT request.
run_case() {
	name=$1; shift
	rm -f qtest.in disk.img
	dd if=/dev/zero of=disk.img bs=64k count=1 2>/dev/null
	mkfifo qtest.in
	# shellcheck disable=SC2086
	$QEMU_BIN $QEMU_MACHINE -S -qtest stdio -display none -nodefaults \
		-device vfio-pci,host=$IVSHMEM,addr=02.0 \
		-drive if=none,id=d0,file=disk.img,format=raw \
		-device virtio-blk-pci,drive=d0,disable-legacy=off,disable-modern=on,addr=05.0 \
		< qtest.in > qtest.out 2> qemu.err &
	QEMU_PID=$!
	exec 3> qtest.in
	# The monitor attaches QEMU's probes when it sees QEMU map the BAR (at realize, before -S).
	wait_attached mon.json.err $QEMU_PID
	sent=0
	# ivshmem BAR2 (64-bit) at BAR2_GPA; virtio's I/O BAR0 at IO; decoding and bus mastering on.
	cfg l 2 0x18 $(a $BAR2_GPA); cfg l 2 0x1c 0; cfg w 2 4 6
	cfg l 5 0x10 $(a $IO); cfg w 5 4 7
	sent=$((sent + 5 * CFG_CMDS))
	# Legacy virtio (virtio_pci_common.h): reset, ACK|DRIVER, no features, queue 0 at VRING.
	io_out b 0x12 0; io_out b 0x12 3; io_out l 4 0; io_out w 0xe 0
	io_in w 0xc
	sent=$((sent + 5))
	qtest_wait $sent
	qsize=$(($(grep '^OK' qtest.out | tail -1 | cut -d' ' -f2)))
	[ $qsize -gt 0 ] || fail "$name: queue 0 has no size: $(cat qemu.err)"
	io_out l 8 $(a "$VRING >> 12"); io_out b 0x12 7
	sent=$((sent + 2))
	avail=$((VRING + 16 * qsize))
	used=$(((avail + 6 + 2 * qsize + 4095) & ~4095))
	# The request: header (type 1 = write to disk, sector 0), the data buffers, the status byte.
	printf '%s\n' "writel $(a $HDR) 1" "writel $(a $HDR + 4) 0" "writeq $(a $HDR + 8) 0" >&3
	sent=$((sent + 3))
	i=0
	desc() { # desc INDEX GPA LEN FLAGS NEXT
		d=$((VRING + 16 * $1))
		printf '%s\n' "writeq $(a $d) $(a $2)" "writel $(a $d + 8) $3" \
			"writew $(a $d + 12) $4" "writew $(a $d + 14) $5" >&3
		sent=$((sent + 4))
	}
	desc 0 $HDR 16 1 1
	i=1
	for b in "$@"; do
		gpa=${b%:*} len=${b#*:}
		printf 'memset %s %s 0x5a\n' "$(a $gpa)" $len >&3
		sent=$((sent + 1))
		desc $i $gpa $len 1 $((i + 1))
		i=$((i + 1))
	done
	desc $i $STATUS 1 2 0
	printf '%s\n' "writeb $(a $STATUS) 0xff" "writew $(a $avail + 4) 0" "writew $(a $avail + 2) 1" >&3
	sent=$((sent + 3))
	io_out w 0x10 0
	sent=$((sent + 1))
	qtest_wait $sent
	# Completion (the used ring's index) or QEMU's virtio error.
	n=0
	while :; do
		printf 'readw %s\n' "$(a $used + 2)" >&3
		sent=$((sent + 1))
		qtest_wait $sent
		USED=$(($(grep '^OK' qtest.out | tail -1 | cut -d' ' -f2)))
		[ $USED = 0 ] && ! grep -q 'virtio:' qemu.err || break
		n=$((n + 1)); [ $n -lt 100 ] || fail "$name: the request neither completed nor failed"
		sleep 0.1
	done
	printf 'readb %s\n' "$(a $STATUS)" >&3
	sent=$((sent + 1))
	qtest_wait $sent
	REQSTATUS=$(($(grep '^OK' qtest.out | tail -1 | cut -d' ' -f2)))
	exec 3>&-
	stop $QEMU_PID
	eval "PID_$(echo $name | tr - _)=$QEMU_PID"
	echo "$name: used $USED, request status $REQSTATUS, disk $(od -An -tx1 -N8 disk.img | tr -d ' \n')"
	grep -v '^$' qemu.err || true
}

start_monitor mon.json --copies -v

run_case ram $DATA_RAM:512
expect_eq "ram: completed" "$USED $REQSTATUS" "1 0"
expect_eq "ram: no virtio error" "$(grep -c 'bogus descriptor' qemu.err)" 0

run_case bar-one $((BAR2_GPA + 0x1000)):512
expect_eq "bar, one buffer: completed" "$USED $REQSTATUS" "1 0"
expect_eq "bar, one buffer: written from the BAR" "$(od -v -An -tx1 -N512 disk.img | tr -d ' \n' | tr -d 5a | wc -c)" 0
expect_eq "bar, one buffer: no virtio error" "$(grep -c 'bogus descriptor' qemu.err)" 0

run_case bar-two $((BAR2_GPA + 0x1000)):512 $((BAR2_GPA + 0x3000)):512
expect_eq "bar, two buffers: not completed" $USED 0
expect_eq "bar, two buffers: QEMU's virtio error" "$(grep -c 'virtio: bogus descriptor or out of resources' qemu.err)" 1

run_case bar-long $((BAR2_GPA + 0x1000)):8192
expect_eq "bar, one buffer of two pages: not completed" $USED 0
expect_eq "bar, one buffer of two pages: QEMU's virtio error" "$(grep -c 'virtio: bogus descriptor or out of resources' qemu.err)" 1

sleep 1
stop_monitor_expect mon.json 0
jq -c 'select(.event == "dma")' mon.json > dma.json
echo "DMA events:"; jq -c '[.pid, .op, .direction, .gpa, .asked, .granted, .result, .short, .device, .region, .region_offset, .bounce_held_by.gpa, ([.stack[0:3][] | .symbol] | join(" < "))]' dma.json
# dma PID: op direction gpa asked granted result short device region offset holder, one per line
dma() {
	jq -r "select(.pid == $1) | \"\(.op) \(.direction) \(.gpa) \(.asked) \(.granted) \(.result) \(.short) \(.device) \(.region) \(.region_offset) \(.bounce_held_by.gpa)\"" dma.json | tr '\n' ';'
}
row() {
	tail -1 mon.json | jq -r "[.copies.dma[] | select(.pid == $1) | \"\(.device) \(.region) \(.direct) \(.bounced) \(.short) \(.failed) \(.bytes)\"] | join(\";\")"
}
B1=$(a $BAR2_GPA + 0x1000) B3=$(a $BAR2_GPA + 0x3000) B2=$(a $BAR2_GPA + 0x2000)
expect_eq "ram: no DMA event" "$(dma $PID_ram)" ""
expect_eq "ram: no DMA row" "$(row $PID_ram)" ""
expect_eq "bar, one buffer: a bounced map, then its unmap" "$(dma $PID_bar_one)" \
	"map read $B1 512 512 bounced false $IVSHMEM BAR2 4096 null;unmap read $B1 512 512 unmapped false $IVSHMEM BAR2 4096 null;"
expect_eq "bar, one buffer: counted" "$(row $PID_bar_one)" "$IVSHMEM BAR2 0 1 0 0 512"
expect_eq "bar, two buffers: bounced, then failed while held" "$(dma $PID_bar_two | cut -d';' -f1-2)" \
	"map read $B1 512 512 bounced false $IVSHMEM BAR2 4096 null;map read $B3 512 0 failed false null null null $B1"
expect_eq "bar, two buffers: counted" "$(row $PID_bar_two)" "$IVSHMEM BAR2 0 1 0 1 512"
expect_eq "bar, two pages: short, then the rest failed while held" "$(dma $PID_bar_long | cut -d';' -f1-2)" \
	"map read $B1 8192 4096 bounced true $IVSHMEM BAR2 4096 null;map read $B2 4096 0 failed false null null null $B1"
expect_eq "bar, two pages: counted" "$(row $PID_bar_long)" "$IVSHMEM BAR2 0 1 1 1 4096"
expect_eq "failed maps: address_space_map's stack" \
	"$(jq -r 'select(.result == "failed") | .stack[0].symbol | split("+")[0]' dma.json | sort -u)" address_space_map
expect_eq "failed maps: the meaning" \
	"$(jq -r 'select(.result == "failed") | .meaning | startswith("FAILED: QEMU\u0027s one bounce buffer is held")' dma.json | sort -u)" true
