# Where BPF-LSM, the BPF file system or VFIO is missing (this machine, when so), policy apply
# fails with the reason and exit 2, and nothing is half-applied.
. "$VFG_TESTS/../guest/lib.sh"

[ "$(id -u)" = 0 ] || skip "apply needs root"
if grep -qw bpf /sys/kernel/security/lsm 2>/dev/null && [ -d /sys/module/vfio ]; then
	skip "this kernel can enforce; the guest tests cover apply"
fi
printf 'default: trap\n' > p.yaml
before=$(ls /run/vfioguard 2>/dev/null | sort)
rc=0; vfioguard policy apply p.yaml > out 2> err || rc=$?
expect_eq "exit status" $rc 2
grep -q "cannot" err || fail "no reason: $(cat err)"
grep -q "previous policy\|nothing was applied" err || fail "does not say nothing changed: $(cat err)"
[ ! -e /sys/fs/bpf/vfioguard ] || fail "pins left behind"
expect_eq "run directory" "$(ls /run/vfioguard 2>/dev/null | sort)" "$before"
rc=0; vfioguard policy show > show.out || rc=$?
expect_eq "show status" $rc 0
grep -q "no policy in force" show.out || fail "show: $(cat show.out)"
