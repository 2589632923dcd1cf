# monitor on this machine: every probe it could not attach is named with the kernel's reason, in
# JSON at the start; it exits 2 only when nothing on the VFIO paths could attach.
. "$VFG_TESTS/../guest/lib.sh"

[ "$(id -u)" = 0 ] || skip "loading BPF programs needs root"
rc=0
timeout 20 vfioguard -j monitor --duration 1 > mon.json 2> mon.err || rc=$?
head -1 mon.json | jq -e '.event == "attach"' >/dev/null || fail "no attach report: $(cat mon.json)"
for h in mmap fault read write unmap exit open-group open-cdev; do
	a=$(head -1 mon.json | jq -r ".hooks[] | select(.hook == \"$h\") | .attached")
	case $a in
	true) ;;
	false) [ -n "$(head -1 mon.json | jq -r ".hooks[] | select(.hook == \"$h\") | .error // empty")" ] ||
		fail "$h: not attached and no reason" ;;
	*) fail "$h: no entry in the attach report" ;;
	esac
done
useful=$(head -1 mon.json | jq '[.hooks[] | select((.hook | IN("unmap", "exit", "open-group", "open-cdev") | not) and .attached)] | length')
if [ "$useful" -eq 0 ]; then
	expect_eq "exit status with nothing useful attached" $rc 2
	grep -q '"error"' mon.json || fail "no error object"
else
	expect_eq "exit status" $rc 0
fi
# Where the kernel refuses fentry and the unmap probe was tried, the fallback says why.
vfioguard -j features > f.json
if [ "$(jq -r .features.fentry.available f.json)" = false ] &&
	[ "$(head -1 mon.json | jq -r '.hooks[] | select(.hook == "unmap") | .function')" != null ]; then
	head -1 mon.json | jq -r .fentry | grep -q 'load failed' ||
		fail "fentry refused here but monitor does not say so: $(head -1 mon.json)"
fi
