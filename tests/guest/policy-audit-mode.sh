# The same trap in audit mode: the mmap succeeds and the decision is recorded.
. "$VFG_TESTS/lib.sh"

grep -qw bpf /sys/kernel/security/lsm || skip "BPF-LSM is not active in this kernel"
policy audit direct edu-bar0-trap trap "device: \"$EDU\", region: bar0" > audit.yaml
apply_policy audit.yaml
clear_at_exit
start_monitor mon.json
vfg-testvmm open $EDU map $EDU bar0 read 0 0 4 volatile > vmm.out 2>&1 ||
	fail "audit mode refused the mmap: $(cat vmm.out)"
grep -q '^read 0 0x0 = 0x10000ed$' vmm.out || fail "register 0: $(cat vmm.out)"
sleep 1
stop_monitor mon.json
expect_eq "recorded decision" "$(events mon.json ".event == \"policy\" and .comm == \"vfg-testvmm\" and .decision == \"allowed\" and .access == \"trap\" and .rule == \"edu-bar0-trap\" and .region == \"BAR0\"")" 1
vfioguard -j policy show > show.json
expect_eq "allowed count" "$(jq .allowed show.json)" 1
expect_eq "denied count" "$(jq .denied show.json)" 0
expect_eq "published mode" "$(jq -r ".regions.devices[] | select(.device == \"$EDU\") | .regions[] | select(.name == \"BAR0\") | \"\(.access) \(.mode)\"" show.json)" "trap audit"

# A policy put in force by another build (here its build record is gone, as an older layout has
# none): its decision records may have another layout, so monitor says it does not read them.
rm /sys/fs/bpf/vfioguard/build
start_monitor mon2.json
stop_monitor mon2.json
expect_eq "decisions of another build's policy read" "$(head -1 mon2.json | jq .policy_decisions)" false
head -1 mon2.json | jq -r .policy_decisions_error | grep -q "put in force by another build of vfioguard" ||
	fail "no reason given for not reading them: $(head -1 mon2.json)"
