# The Debian package (make deb) installs with dpkg on this Debian 12 root, made writable by an
# overlay for the test, and what it installs works there: the program runs and probes the
# kernel (features), the man page and completion are found, the example policy checks; removal
# leaves none of its files. Its systemd unit passes systemd-analyze verify and is enabled.
# arches: x86_64 -- make deb builds the host's architecture, and the arm64 root is unpacked packages without a dpkg database
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
cleanup() { umount -R $r 2>/dev/null; umount $o 2>/dev/null; }
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

in_root dpkg -P vfioguard > purge.log 2>&1 || fail "dpkg -P: $(cat purge.log)"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' > files.txt
while read -r f; do
	[ ! -e "$r$f" ] || fail "$f left after dpkg -P"
	[ ! -e "$r${f%.gz}" ] || fail "${f%.gz} left after dpkg -P"
done < files.txt
[ -s files.txt ] || fail "the package lists no files"
[ ! -e $r/etc/systemd/system/multi-user.target.wants/vfioguard.service ] ||
	fail "vfioguard.service still enabled after dpkg -P"
