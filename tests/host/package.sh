# make install / uninstall into a DESTDIR, and the Debian package make check built (make deb):
# the files each puts in place, the installed program runs, the man page renders without
# warnings, uninstall leaves nothing behind, and the package holds what make install installs.
. "$VFG_TESTS/../guest/lib.sh"

top=$(cd "$VFG_TESTS/../.." && pwd)
build=$(dirname "$(command -v vfioguard)")
files="usr/sbin/vfioguard
usr/share/man/man8/vfioguard.8
usr/share/bash-completion/completions/vfioguard
usr/lib/systemd/system/vfioguard.service
usr/share/doc/vfioguard/examples/default-host.yaml
usr/share/doc/vfioguard/examples/vmm-requires-vfioguard.conf
usr/share/doc/vfioguard/examples/gh100-host.yaml
usr/share/doc/vfioguard/examples/locked-down.yaml
usr/share/doc/vfioguard/prometheus/scrape.yml
usr/share/doc/vfioguard/prometheus/vfioguard-rules.yml"

make -s -C "$top" BUILD="$build" PREFIX=/usr DESTDIR="$PWD/root" install > install.log 2>&1 ||
	fail "make install: $(cat install.log)"
(cd root && find . -type f | sed 's|^\./||' | sort) > got.txt
[ "$(cat got.txt)" = "$(echo "$files" | sort)" ] || fail "make install put: $(cat got.txt)"
[ "$(stat -c %a root/usr/sbin/vfioguard)" = 755 ] || fail "program mode $(stat -c %a root/usr/sbin/vfioguard)"
root/usr/sbin/vfioguard --version | grep -q '^vfioguard [0-9]' || fail "installed program: $(root/usr/sbin/vfioguard --version 2>&1)"
# As lintian checks a man page.
LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z \
	root/usr/share/man/man8/vfioguard.8 2> man.err > /dev/null || fail "man: $(cat man.err)"
[ ! -s man.err ] || fail "man page warnings: $(cat man.err)"
bash -n root/usr/share/bash-completion/completions/vfioguard || fail "completion: bash -n"
root/usr/sbin/vfioguard policy check root/usr/share/doc/vfioguard/examples/default-host.yaml \
	> /dev/null 2>&1 || fail "the installed example policy does not check"
make -s -C "$top" BUILD="$build" PREFIX=/usr DESTDIR="$PWD/root" uninstall > uninstall.log 2>&1 ||
	fail "make uninstall: $(cat uninstall.log)"
[ -z "$(find root -type f)" ] || fail "uninstall left: $(find root -type f)"
[ ! -e root/usr/share/doc/vfioguard ] || fail "uninstall left the doc directory"

# The package: what make install installs (compressed man page), and Debian's own files.
deb=$(ls "$build"/deb/vfioguard_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no package in $build/deb: make deb (make check builds it)"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort > deb.txt
want=$( (echo "$files" | sed -e 's|vfioguard\.8$|vfioguard.8.gz|' -e 's|^usr/lib/systemd|lib/systemd|'
	echo usr/share/doc/vfioguard/changelog.gz; echo usr/share/doc/vfioguard/copyright) | sort)
[ "$(cat deb.txt)" = "$want" ] || fail "package holds: $(cat deb.txt)"
dpkg-deb -f "$deb" Depends | grep -q 'libbpf1' || fail "Depends lacks libbpf1: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -f "$deb" Recommends | grep -q 'libcapstone4' ||
	fail "Recommends lacks libcapstone4 (loaded at run time)"
[ "$(dpkg-deb -f "$deb" Version)" = "$(vfioguard --version | awk '{ print $2 }')" ] ||
	fail "package version $(dpkg-deb -f "$deb" Version), program $(vfioguard --version)"
