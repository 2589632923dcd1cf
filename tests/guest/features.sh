# features in the guest, where every program type loads: each probe is reported as it really went.
. "$VFG_TESTS/lib.sh"

vfioguard -j features > f.json || fail "features exited $?"
for k in btf iter_task_vma fentry fexit kprobe uprobe uprobe_find_vma lsm_program bpf_lsm_active vfio vfio_pci; do
	expect_eq "$k" "$(jqf f.json ".features.$k.available")" true
done
expect_eq "arch" "$(jqf f.json .arch)" $ARCH_NAME
expect_eq "kernel" "$(jqf f.json .kernel)" "$(uname -r)"
grep -qw bpf /sys/kernel/security/lsm || fail "bpf not in the guest's LSM list"
