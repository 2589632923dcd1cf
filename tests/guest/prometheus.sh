# A real Prometheus server (Debian's) scrapes vfioguard serve with the shipped scrape
# configuration (its target and interval changed) and evaluates the shipped alert rules, while a
# test VMM maps a region it may (ivshmem BAR2), is denied one the policy traps (edu BAR0) and
# copies into a `fixed` region (ivshmem BAR0) as its verdict forbids: `up` is 1,
# VfioguardMmapDenied and VfioguardCopyViolation are pending or firing with the labels of that
# activity, VfioguardPolicyNotEnforced and VfioguardEventsDropped are not; then the test driver
# (tests/kmod) maps ivshmem BAR2 write-combined where the policy assumed UC-, and
# VfioguardCacheModeMismatch goes pending.
# arches: x86_64 -- the rules and Prometheus's evaluation do not depend on the architecture; the
# copy verdict under each architecture is the serve test's
# timeout: 400
. "$VFG_TESTS/lib.sh"

export VFIOGUARD_CACHE_DIR=$PWD/cache
prometheus=$VFG_TOP/build/vm/tools-$VFG_ARCH/prometheus
[ -x "$prometheus" ] || fail "no prometheus at $prometheus (tests/vm/prepare fetches it)"
port=19751 pport=19752
policy enforce fixed \
	edu-bar0-testvmm trap "device: \"$EDU\", region: bar0, comm: \"vfg-*\"" \
	ivshmem-bar2 direct "device: \"$IVSHMEM\", region: bar2" > p.yaml
clear_at_exit SV PROM

start_serve --policy "$PWD/p.yaml" --listen 127.0.0.1:$port --interval 1 --libc
cp "$VFG_TOP/docs/prometheus/vfioguard-rules.yml" .
sed -e "s/scrape_interval: 15s/scrape_interval: 1s/" \
	-e "s/targets: .*/targets: [\"127.0.0.1:$port\"]/" "$VFG_TOP/docs/prometheus/scrape.yml" > prom.yml
printf 'global:\n  evaluation_interval: 1s\n' >> prom.yml
grep -q "127.0.0.1:$port" prom.yml && grep -q 'scrape_interval: 1s' prom.yml ||
	fail "the shipped scrape.yml changed shape: $(cat prom.yml)"
"$prometheus" --config.file=prom.yml --storage.tsdb.path=tsdb \
	--web.listen-address=127.0.0.1:$pport > prom.log 2>&1 &
PROM=$!
api() { busybox wget -q -O "$2" "http://127.0.0.1:$pport/api/v1/$1"; }
n=0
until api "query?query=up" up.json && [ "$(jq -r '.data.result[0].value[1]' up.json)" = 1 ]; do
	kill -0 $PROM 2>/dev/null || fail "prometheus exited: $(tail -20 prom.log)"
	n=$((n + 1)); [ $n -lt 300 ] || fail "prometheus never scraped serve (up): $(cat up.json; tail -5 prom.log)"
	sleep 0.5
done
expect_eq "up's job" "$(jq -r '.data.result[0].metric.job' up.json)" vfioguard
api rules rules.json || fail "no rules"
expect_eq "rules loaded" "$(jq '[.data.groups[].rules[]] | length' rules.json)" \
	"$(grep -c -- '- alert:' vfioguard-rules.yml)"

# The activity: an allowed map, a denied one, a copy the verdict of ivshmem BAR0 (fixed)
# forbids (a 4-byte memcpy is two overlapping stores on x86_64), with probes in place first.
rc=0
vfg-testvmm open $EDU map $EDU bar0 > deny.out 2>&1 || rc=$?
expect_eq "edu BAR0 refused" $rc 1
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 map $IVSHMEM bar0 ready ready waitfile go \
	copy 1 0 4 memcpy > vmm.out 2>&1 &
vmm=$!
wait_ready ready $vmm
wait_attached serve.err $vmm $SV
touch go
wait $vmm || fail "copying VMM: $(cat vmm.out)"

# alert NAME: its state ("" when neither pending nor firing) and labels, as one line.
alert() { jq -r ".data.alerts[] | select(.labels.alertname == \"$1\") | \"\\(.state) \\(.labels | del(.alertname, .severity, .instance, .job) | to_entries | map(\"\\(.key)=\\(.value)\") | join(\",\"))\"" alerts.json; }
n=0
until api alerts alerts.json && [ -n "$(alert VfioguardMmapDenied)" ] &&
	[ -n "$(alert VfioguardCopyViolation)" ]; do
	n=$((n + 1))
	[ $n -lt 120 ] || fail "alerts not raised: $(jq -c '.data.alerts' alerts.json); serve: $(busybox wget -q -O - "http://127.0.0.1:$port/metrics" | grep -E '^vfioguard_(mmap_decisions|copies)_total')"
	sleep 0.5
done
note "alerts: $(jq -c '[.data.alerts[] | [.labels.alertname, .state]]' alerts.json)"
denied=$(alert VfioguardMmapDenied)
case $denied in
pending\ * | firing\ *) ;;
*) fail "VfioguardMmapDenied: $denied" ;;
esac
expect_eq "denial's labels" "${denied#* }" "decision=denied,rule=edu-bar0-testvmm"
violation=$(alert VfioguardCopyViolation)
case ${violation#* } in
*comm=vfg-testvmm*device=$IVSHMEM*direction=write*region=BAR0*verdict=violation*) ;;
*) fail "VfioguardCopyViolation: $violation" ;;
esac
expect_eq "VfioguardPolicyNotEnforced" "$(alert VfioguardPolicyNotEnforced)" ""
expect_eq "VfioguardEventsDropped" "$(alert VfioguardEventsDropped)" ""
api "query?query=up" up.json
expect_eq "up at the end" "$(jq -r '.data.result[0].value[1]' up.json)" 1

# A real cache-mode mismatch: the policy was applied while vfio-pci had ivshmem (BAR2 assumed
# UC-); the test driver shaped like nvgrace-gpu takes it over and maps BAR2 write-combined.
# The mismatch is scraped and VfioguardCacheModeMismatch goes pending with its labels.
gh100_bind
echo wc > $GH100_PARAMS/bar2_mode
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 read 0 0 8 volatile > wc.out 2>&1 ||
	fail "mapping BAR2 write-combined: $(cat wc.out)"
n=0
until api alerts alerts.json && [ -n "$(alert VfioguardCacheModeMismatch)" ]; do
	n=$((n + 1))
	[ $n -lt 120 ] || fail "no mismatch alert: $(jq -c '.data.alerts' alerts.json); serve: $(busybox wget -q -O - "http://127.0.0.1:$port/metrics" | grep -E '^vfioguard_region_cache_mode_mismatch')"
	sleep 0.5
done
mismatch=$(alert VfioguardCacheModeMismatch)
case $mismatch in
pending\ * | firing\ *) ;;
*) fail "VfioguardCacheModeMismatch: $mismatch" ;;
esac
expect_eq "mismatch's labels" "${mismatch#* }" "assumed=UC-,device=$IVSHMEM,mapped=WC,region=BAR2"
