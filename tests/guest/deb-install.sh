# The Debian package (make deb) installs with dpkg on this Debian 12 root, made writable by an
# overlay for the test, and what it installs works there: the program runs and probes the
# kernel (features), the man page and completion are found, the example policy checks; removal
# leaves none of its files. Its systemd unit passes systemd-analyze verify and is enabled, and
# systemd booting that root (as PID 1 of a PID namespace: the guest's own init is busybox)
# fails on a policy that cannot be applied while a VMM service that requires it (the shipped
# drop-in) does not start; with the example policy in /etc/vfioguard the VMM service starts only
# once it is in force; enforced (config space refused), metrics promtool accepts, a reload
# with a bad file refused with the generation kept, the policy still in force after a stop.
# arches: x86_64 -- make deb builds the host's architecture, and the arm64 root is unpacked packages without a dpkg database
# timeout: 400
. "$VFG_TESTS/lib.sh"
# The package and its install are the same under both x86_64 kernels; features on 6.12 is the
# features test's. Run once (80 s of the CI's 90 minutes).
[ "$KVER" -lt 612 ] || skip "run on x86_64 6.1 only: dpkg's install does not depend on the kernel"

deb=$(ls "$VFG_BUILD"/deb/vfioguard_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no package in $VFG_BUILD/deb: make deb (make check builds it)"
grep -qw overlay /proc/filesystems || fail "no overlay filesystem in the guest (tests/vm/prepare loads it)"

o=/tmp/deb-root
mkdir -p $o && mount -t tmpfs tmpfs $o && mkdir $o/upper $o/work $o/root
r=$o/root
cleanup() {
	[ -z "${BOOT:-}" ] || { kill -KILL $BOOT; wait $BOOT; } 2>/dev/null
	vfioguard policy clear > /dev/null 2>&1
	umount -R $r 2>/dev/null; umount $o 2>/dev/null
}
trap cleanup EXIT
mount -t overlay overlay -o lowerdir=/,upperdir=$o/upper,workdir=$o/work $r ||
	fail "cannot put an overlay over the root"
mount -t proc proc $r/proc
mount --rbind /sys $r/sys
mount --rbind /dev $r/dev
mount -t tmpfs tmpfs $r/tmp
mount -t tmpfs tmpfs $r/run
cp "$deb" $r/tmp/
in_root() { chroot $r env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"; }

[ ! -e $r/usr/sbin/vfioguard ] || fail "the root already has /usr/sbin/vfioguard"
in_root dpkg -i "/tmp/$(basename "$deb")" > dpkg.log 2>&1 || fail "dpkg -i: $(cat dpkg.log)"
in_root dpkg-query -W -f '${Status} ${Version}\n' vfioguard > status.txt
expect_eq "dpkg status" "$(cat status.txt)" "install ok installed $(vfioguard --version | awk '{ print $2 }')"
expect_eq "installed at" "$(in_root sh -c 'command -v vfioguard')" /usr/sbin/vfioguard

in_root vfioguard -j features > f.json || fail "installed vfioguard features exited $?"
for k in btf fentry fexit uprobe lsm_program vfio vfio_pci; do
	[ "$(jqf f.json ".features.$k.available")" = true ] ||
		fail "installed vfioguard: $k not available: $(jq -c ".features.$k" f.json)"
done
expect_eq "man page" "$(in_root man -w vfioguard)" /usr/share/man/man8/vfioguard.8.gz
in_root bash -c '. /usr/share/bash-completion/bash_completion
	_completion_loader vfioguard; complete -p vfioguard' > comp.txt 2>&1 ||
	fail "completion not found by bash-completion: $(cat comp.txt)"
grep -q -- '-F _vfioguard vfioguard' comp.txt || fail "completion: $(cat comp.txt)"
in_root vfioguard policy check /usr/share/doc/vfioguard/examples/default-host.yaml > pc.txt 2>&1 ||
	fail "example policy: $(cat pc.txt)"
# The unit of serve: systemd accepts it, and the package enabled it (it starts only once
# /etc/vfioguard/policy.yaml exists).
in_root systemd-analyze verify /lib/systemd/system/vfioguard.service > unit.txt 2>&1 ||
	fail "systemd-analyze verify: $(cat unit.txt)"
[ -L $r/etc/systemd/system/multi-user.target.wants/vfioguard.service ] ||
	fail "the package did not enable vfioguard.service"

# Boot: systemd as PID 1 of a PID namespace, chrooted into the root, to multi-user.target, where
# the package enabled the unit. The host's own services are not this test's (only the
# package's stays wanted), and creating what tmpfiles.d lists walks the 9p root for minutes
# under emulation: masked. The unit's sandbox (namespaces, capability set) is systemd's own.
promtool=$VFG_TOP/build/vm/tools-$VFG_ARCH/promtool
[ -x "$promtool" ] || fail "no promtool at $promtool (tests/vm/prepare fetches it)"
vfioguard policy clear > /dev/null 2>&1 || true
mkdir -p $r/etc/vfioguard
# First a policy that cannot be applied (a syntax error).
echo "rules: [" > $r/etc/vfioguard/policy.yaml
: > $r/etc/fstab
for u in $r/etc/systemd/system/*.wants/*; do
	[ "$(basename "$u")" = vfioguard.service ] || rm -f "$u"
done
# A VMM service that fails closed with the shipped drop-in (as libvirtd would), wanted at boot:
# it records what was in force when it started.
mkdir -p $r/etc/systemd/system/vfg-vmm.service.d
cp $r/usr/share/doc/vfioguard/examples/vmm-requires-vfioguard.conf \
	$r/etc/systemd/system/vfg-vmm.service.d/vfioguard.conf
cat > $r/etc/systemd/system/vfg-vmm.service <<UNIT
[Unit]
Description=a VMM service of the test
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'cat /run/vfioguard/state.json > /run/vfg-vmm.state 2>/dev/null || echo none > /run/vfg-vmm.state'
[Install]
WantedBy=multi-user.target
UNIT
ln -s ../vfg-vmm.service $r/etc/systemd/system/multi-user.target.wants/vfg-vmm.service
for u in systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service \
	systemd-udev-trigger.service; do
	ln -sf /dev/null $r/etc/systemd/system/$u
done
mountpoint -q $r/sys/fs/cgroup || mount -t cgroup2 cgroup2 $r/sys/fs/cgroup ||
	fail "cannot mount cgroup2 for systemd"
umount $r/run $r/tmp # systemd mounts its own
unshare --pid --fork --mount --mount-proc=$r/proc chroot $r env -i container=vfioguard-test \
	/lib/systemd/systemd --unit=multi-user.target --show-status=0 > boot.out 2>&1 &
BOOT=$!
n=0
until pid1=$(pgrep -f '^/lib/systemd/systemd --unit=multi-user.target'); do
	n=$((n + 1)); [ $n -lt 100 ] || fail "systemd did not start: $(cat boot.out)"
	sleep 0.1
done
# systemctl and journalctl of that system: in its namespaces and root.
in_boot() { SYSTEMD_IGNORE_CHROOT=1 nsenter -t "$pid1" -m -p -r -w "$@"; }
# until_scraped PATTERN WHAT CONTEXT: scrapes the service's metrics (scrape.txt) until a line
# matches PATTERN; fails with WHAT and the lines that match CONTEXT after a minute.
until_scraped() {
	n=0
	until busybox wget -q -O scrape.txt http://127.0.0.1:9747/metrics && grep -q "$1" scrape.txt; do
		n=$((n + 1)); [ $n -lt 120 ] || fail "$2: $(grep "$3" scrape.txt)"
		sleep 0.5
	done
}
# Fail closed: the policy cannot be applied, serve fails (and is restarted every 5 s), and the
# VMM service that requires it never starts.
n=0
until [ "$(in_boot systemctl show -p NRestarts --value vfioguard.service 2>/dev/null || echo 0)" -ge 1 ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "vfioguard.service did not fail on a bad policy: $(in_boot systemctl status vfioguard.service 2>&1)"
	sleep 0.5
done
expect_eq "VMM service with a policy that cannot be applied" \
	"$(in_boot systemctl show -p ActiveState --value vfg-vmm.service)" inactive
in_boot test ! -e /run/vfg-vmm.state || fail "the VMM service ran: $(in_boot cat /run/vfg-vmm.state)"
# With a good policy, the VMM service started alone pulls vfioguard in and starts only once the
# policy is in force (Type=notify: READY after the first apply).
cp $r/usr/share/doc/vfioguard/examples/default-host.yaml $r/etc/vfioguard/policy.yaml
in_boot systemctl stop vfioguard.service
vfioguard policy clear > /dev/null 2>&1 || true
in_boot systemctl start vfg-vmm.service || fail "vfg-vmm.service did not start: $(in_boot systemctl status vfg-vmm.service vfioguard.service 2>&1)"
seen=$(in_boot cat /run/vfg-vmm.state)
printf '%s\n' "$seen" | jq -e '.generation >= 1' > /dev/null ||
	fail "the VMM service started before the policy was in force: it saw '$seen'"
expect_eq "systemd's status of vfioguard" \
	"$(in_boot systemctl show -p StatusText --value vfioguard.service)" \
	"/etc/vfioguard/policy.yaml in force, generation $(printf '%s\n' "$seen" | jq .generation)"
n=0
until [ "$(in_boot systemctl is-active vfioguard.service 2>/dev/null)" = active ] &&
	busybox wget -q -O scrape.txt http://127.0.0.1:9747/metrics 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "vfioguard.service not running after boot: $(in_boot systemctl status vfioguard.service 2>&1; in_boot journalctl -b --no-pager 2>&1 | tail -30)"
	sleep 0.5
done
note "vfioguard.service active $((n / 2)) s after systemd started"
gen=$(vfioguard -j policy show | jq .generation)
[ "$gen" -ge 1 ] || fail "no policy in force after the boot: $(vfioguard policy show 2>&1)"
grep -q "^vfioguard_policy_generation $gen\$" scrape.txt || fail "metrics: $(grep generation scrape.txt)"
# The example policy traps config space: an mmap of it is refused by the policy (the kernel's
# count names the rule), not only by vfio-pci.
rc=0; vfg-testvmm open $EDU map $EDU config > trap.out 2>&1 || rc=$?
expect_eq "edu config space mmap under the booted policy" $rc 1
until_scraped '^vfioguard_mmap_decisions_total{decision="denied",rule="config-space-through-the-kernel"} 1$' \
	"no denial by the example policy ($(cat trap.out))" mmap
"$promtool" check metrics < scrape.txt > promtool.out 2>&1 || fail "promtool: $(cat promtool.out)"
grep -q '^vfioguard_policy_enforced 1$' scrape.txt || fail "not enforced: $(grep policy scrape.txt)"
# A reload with a bad file: refused, the generation stays, the service runs on.
echo "rules: [" > $r/etc/vfioguard/policy.yaml
in_boot systemctl reload vfioguard.service || fail "systemctl reload failed"
until_scraped '^vfioguard_policy_reload_failures_total 1$' "the bad reload was not counted" reload
expect_eq "service after a bad reload" "$(in_boot systemctl is-active vfioguard.service)" active
grep -q "^vfioguard_policy_generation $gen\$" scrape.txt || fail "generation moved: $(grep generation scrape.txt)"
in_boot journalctl -u vfioguard.service --no-pager > journal.txt 2>&1
grep -q "not applied; generation $gen stays in force" journal.txt ||
	fail "the refusal is not in the journal: $(tail -20 journal.txt)"
# A stop ends the watching; the policy stays in force. Then the system powers off.
in_boot systemctl stop vfioguard.service || fail "systemctl stop failed"
expect_eq "generation after the stop" "$(vfioguard -j policy show | jq .generation)" "$gen"
kill -RTMIN+4 "$pid1"
n=0
while kill -0 $BOOT 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 300 ] || fail "systemd did not power off: $(tail -20 boot.out)"
	sleep 0.2
done
BOOT=
vfioguard policy clear > /dev/null || fail "policy clear after the boot"
mount -t tmpfs tmpfs $r/run

in_root dpkg -P vfioguard > purge.log 2>&1 || fail "dpkg -P: $(cat purge.log)"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' > files.txt
while read -r f; do
	[ ! -e "$r$f" ] || fail "$f left after dpkg -P"
	[ ! -e "$r${f%.gz}" ] || fail "${f%.gz} left after dpkg -P"
done < files.txt
[ -s files.txt ] || fail "the package lists no files"
[ ! -e $r/etc/systemd/system/multi-user.target.wants/vfioguard.service ] ||
	fail "vfioguard.service still enabled after dpkg -P"
