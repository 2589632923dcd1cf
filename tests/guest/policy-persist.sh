# Enforcement outlives the CLI, even killed with SIGKILL; policy clear lifts it.
. "$VFG_TESTS/lib.sh"

grep -qw bpf /sys/kernel/security/lsm || skip "BPF-LSM is not active in this kernel"
printf 'default: trap\n' > trap-all.yaml
apply_policy trap-all.yaml
clear_at_exit
# A long-running vfioguard (monitor) killed hard, and no vfioguard process left at all.
start_monitor mon.json
kill -9 $MON_PID; wait $MON_PID 2>/dev/null || true
pgrep -x vfioguard && fail "a vfioguard process is still running"
rc=0; vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 > vmm1.out 2>&1 || rc=$?
expect_eq "mmap after the CLI is gone" $rc 1
grep -q "Operation not permitted" vmm1.out || fail "not EPERM: $(cat vmm1.out)"
ls /sys/fs/bpf/vfioguard/link_lsm >/dev/null || fail "no pinned link"
[ "$(stat -c %a /sys/fs/bpf/vfioguard)" = 700 ] || fail "pin directory is not root-only"
# Without privileges nothing can be changed, and the CLI says why.
rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups vfioguard policy clear > np.out 2>&1 || rc=$?
expect_eq "unprivileged clear" $rc 2
grep -q "needs root" np.out || fail "no reason given: $(cat np.out)"
vfioguard policy clear > clear.out || fail "clear failed: $(cat clear.out)"
[ ! -e /sys/fs/bpf/vfioguard ] || fail "pins left behind"
[ ! -e /run/vfioguard/regions.json ] || fail "stale regions.json"
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 > vmm2.out 2>&1 || fail "still refused after clear: $(cat vmm2.out)"
