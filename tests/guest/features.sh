# features in the guest: each probe is reported as it really went (every program type attaches,
# except trampoline programs on arm64 6.1).
. "$VFG_TESTS/lib.sh"

vfioguard -j features > f.json || fail "features exited $?"
for k in btf iter_task_vma kprobe uprobe uprobe_find_vma bpf_lsm_active vfio vfio_pci; do
	[ "$(jqf f.json ".features.$k.available")" = true ] || fail "$k: $(jqf f.json ".features.$k")"
done
# Trampoline programs: everywhere but arm64 6.1, where the attach says why.
for k in fentry fexit lsm_program; do
	if [ $TRAMPOLINES = 1 ]; then
		expect_eq "$k" "$(jqf f.json ".features.$k.available")" true
	else
		expect_eq "$k" "$(jqf f.json ".features.$k.available")" false
		jqf f.json ".features.$k.detail" | grep -q "attach failed: not supported by this kernel (ENOTSUPP)" ||
			fail "$k: $(jqf f.json ".features.$k")"
	fi
done
expect_eq "arch" "$(jqf f.json .arch)" $ARCH_NAME
expect_eq "kernel" "$(jqf f.json .kernel)" "$(uname -r)"
grep -qw bpf /sys/kernel/security/lsm || fail "bpf not in the guest's LSM list"
