# What issue-level users hit when a guest puts an I/O buffer in a passed-through BAR: QEMU 7.2
# maps such a buffer (a RAM-device region, never "direct") through its one bounce buffer of at
# most a page. Real QEMU, ivshmem BAR2 passed through, an emulated legacy virtio-blk driven by
# qtest (no guest CPU): a write request whose data lies in the BAR is bounced and completes;
# with two data descriptors in the BAR (or one longer than a page) the second map finds the
# bounce buffer busy, QEMU reports "virtio: bogus descriptor or out of resources" and the device
# stops (a legacy device is marked broken: no request of it completes); the same request with its data in guest RAM completes.
# One `monitor --copies` watches the four QEMUs and reports each DMA map of the BAR (bounced,
# with its region and offset), each failed map (with the map that holds the bounce buffer), and
# nothing for the request in RAM; its summary counts them per process and region. serve, run
# beside it, exports the same maps as metrics.
# timeout: 480
. "$VFG_TESTS/lib.sh"

HDR=$((VQ_RAM + 0x200000)) STATUS=$((VQ_RAM + 0x200100)) DATA_RAM=$((VQ_RAM + 0x300000))

# One QEMU per case: a device stopped by virtio_error stays stopped.
# run_case NAME DESCS: DESCS are "GPA:LEN" data buffers of one VIRTIO_BLK_T_OUT request.
run_case() {
	name=$1; shift
	rm -f disk.img
	dd if=/dev/zero of=disk.img bs=64k count=1 2>/dev/null
	start_virtio_qemu disk.img
	# The monitor attaches QEMU's probes when it sees QEMU map the BAR (at realize, before -S).
	wait_attached mon.json.err $QEMU_PID
	wait_attached serve.err $QEMU_PID $SV
	# The request: header (type 1 = write to disk, sector 0), the data buffers, the status byte.
	printf '%s\n' "writel $(hexa $HDR) 1" "writel $(hexa $HDR + 4) 0" "writeq $(hexa $HDR + 8) 0" >&3
	QTEST_SENT=$((QTEST_SENT + 3))
	vq_desc 0 $HDR 16 1 1
	i=1
	for b in "$@"; do
		gpa=${b%:*} len=${b#*:}
		printf 'memset %s %s 0x5a\n' "$(hexa $gpa)" $len >&3
		QTEST_SENT=$((QTEST_SENT + 1))
		vq_desc $i $gpa $len 1 $((i + 1))
		i=$((i + 1))
	done
	vq_desc $i $STATUS 1 2 0
	printf '%s\n' "writeb $(hexa $STATUS) 0xff" "writew $(hexa $VQ_AVAIL + 4) 0" \
		"writew $(hexa $VQ_AVAIL + 2) 1" >&3
	vq_out w 0x10 0
	QTEST_SENT=$((QTEST_SENT + 4))
	qtest_wait $QTEST_SENT
	# Completion (the used ring's index) or QEMU's virtio error.
	n=0
	while :; do
		printf 'readw %s\n' "$(hexa $VQ_USED + 2)" >&3
		QTEST_SENT=$((QTEST_SENT + 1))
		qtest_wait $QTEST_SENT
		USED=$(qtest_last)
		[ $USED = 0 ] && ! grep -q 'virtio:' qemu.err || break
		n=$((n + 1)); [ $n -lt 100 ] || fail "$name: the request neither completed nor failed"
		sleep 0.1
	done
	printf 'readb %s\n' "$(hexa $STATUS)" >&3
	QTEST_SENT=$((QTEST_SENT + 1))
	qtest_wait $QTEST_SENT
	REQSTATUS=$(qtest_last)
	exec 3>&-
	stop $QEMU_PID
	eval "PID_$(echo $name | tr - _)=$QEMU_PID"
	echo "$name: used $USED, request status $REQSTATUS, disk $(od -An -tx1 -N8 disk.img | tr -d ' \n')"
	grep -v '^$' qemu.err || true
}

trap '[ -z "${SV:-}" ] || kill -TERM $SV 2>/dev/null' EXIT
start_serve --no-policy --listen 127.0.0.1:19748 --interval 1
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
echo "cases done at $(cut -d' ' -f1 /proc/uptime) s"
stop_monitor_expect mon.json 0
echo "monitor stopped at $(cut -d' ' -f1 /proc/uptime) s"
jq -c 'select(.event == "dma")' mon.json > dma.json
# A return probe runs for every process's return; each counts only its own process's.
expect_eq "map entries and returns, per QEMU" \
	"$(tail -1 mon.json | jq -r '[.copies.targets[] | select(.target | startswith("qemu address_space_map"))] | group_by(.pid)[] | map(.hits) | unique | length' | sort -u)" 1
echo "DMA events:"; jq -c '[.pid, .op, .direction, .gpa, .asked, .granted, .result, .short, .device, .region, .region_offset, .bounce_held_by.gpa, ([.stack[0:3][] | .symbol] | join(" < "))]' dma.json
# dma PID: op direction gpa asked granted result short device region offset holder, one per line
dma() {
	jq -r "select(.pid == $1) | \"\(.op) \(.direction) \(.gpa) \(.asked) \(.granted) \(.result) \(.short) \(.device) \(.region) \(.region_offset) \(.bounce_held_by.gpa)\"" dma.json | tr '\n' ';'
}
row() {
	tail -1 mon.json | jq -r "[.copies.dma[] | select(.pid == $1) | \"\(.device) \(.region) \(.direct) \(.bounced) \(.short) \(.failed) \(.bytes)\"] | join(\";\")"
}
B1=$(hexa $BAR2_GPA + 0x1000) B3=$(hexa $BAR2_GPA + 0x3000) B2=$(hexa $BAR2_GPA + 0x2000)
echo "events extracted at $(cut -d' ' -f1 /proc/uptime) s"
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

# serve's metrics: the same maps, summed over the QEMUs (all exited now) by name and region.
# sum NAME FILTER: the sum of a family's series whose labels contain FILTER.
sum() { awk -v p="$1{" -v f="$2" 'index($1, p) == 1 && index($1, f) { s += $2 } END { print s + 0 }' scrape.txt; }
l="device=\"$IVSHMEM\",region=\"BAR2\""
n=0
while busybox wget -q -O scrape.txt http://127.0.0.1:19748/metrics || fail "scrape failed"
	[ "$(sum vfioguard_dma_map_failures_total "$l")" != 2 ]; do
	n=$((n + 1)); [ $n -lt 60 ] || break
	sleep 0.5
done
expect_eq "serve: maps of BAR2" "$(sum vfioguard_dma_maps_total "$l,comm=")" 3
expect_eq "serve: of them bounced" "$(sum vfioguard_dma_maps_total 'result="bounced"')" 3
expect_eq "serve: direct maps" "$(sum vfioguard_dma_maps_total 'result="direct"')" 0
expect_eq "serve: short maps" "$(sum vfioguard_dma_short_maps_total "$l")" 1
expect_eq "serve: failed maps, by the holder's region" "$(sum vfioguard_dma_map_failures_total "$l")" 2
expect_eq "serve: bytes granted" "$(sum vfioguard_dma_map_bytes_total "$l")" 5120
expect_eq "serve: events dropped" "$(sum vfioguard_events_dropped_total 'source="copies"')" 0
