# Without privileges audit says what it lacks and exits 2, with no table at all.
. "$VFG_TESTS/lib.sh"

command -v setpriv >/dev/null || skip "setpriv not installed"
start_vmm ready open $EDU map $EDU bar0
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups vfioguard audit > out.txt 2> err.txt || rc=$?
stop $VMM_PID
expect_eq "exit status" $rc 2
[ ! -s out.txt ] || fail "printed a table without privileges: $(cat out.txt)"
grep -qi "root\|CAP_" err.txt || fail "message does not say what is missing: $(cat err.txt)"
