# features on the machine that runs the tests: every probe gives a yes/no and, for a no, the
# program or file and the reason, as the kernel answered it.
. "$VFG_TESTS/../guest/lib.sh"

vfioguard -j features > f.json || fail "features exited $?"
for k in btf iter_task_vma fentry fexit kprobe uprobe uprobe_find_vma lsm_program bpf_lsm_active vfio vfio_pci; do
	a=$(jqf f.json ".features.$k.available")
	case $a in true|false) ;; *) fail "$k: available is '$a'" ;; esac
	[ -n "$(jqf f.json ".features.$k.detail // empty")" ] || fail "$k: no detail"
done
# The kernel's answer, not a guess from versions: where fentry is refused the reason is the errno.
if [ "$(jqf f.json .features.fentry.available)" = false ]; then
	[ "$(jqf f.json .features.fentry.errno)" -gt 0 ] || fail "fentry refused without an errno"
fi
vfioguard features > f.txt || fail "features (text) exited $?"
grep -q '^fentry  *\(yes\|no\) ' f.txt || fail "text output lacks the fentry line: $(cat f.txt)"
