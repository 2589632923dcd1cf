# A policy traps edu BAR0 for QEMU and the test VMM: real QEMU's mmap is refused, it falls back to
# the device fd and the qtest read of register 0 still returns 0x010000ed; monitor shows the
# denial and the fd reads. The test VMM's mmap of edu BAR0 fails with EPERM, its mmap of ivshmem
# BAR2 (direct) succeeds. The verdicts are published; policy show counts the decisions.
. "$VFG_TESTS/lib.sh"

command -v $QEMU_BIN >/dev/null || fail "$QEMU_BIN is not in the guest (make deps)"
grep -qw bpf /sys/kernel/security/lsm || skip "BPF-LSM is not active in this kernel"
if [ $TRAMPOLINES = 0 ]; then
	# arm64 6.1: nothing can be enforced; apply says why and changes nothing.
	printf 'default: trap\n' > any.yaml
	rc=0; vfioguard policy apply any.yaml > apply.out 2>&1 || rc=$?
	expect_eq "apply without trampolines" $rc 2
	grep -q "no BPF trampolines for BPF-LSM" apply.out || fail "no reason: $(cat apply.out)"
	[ ! -e /sys/fs/bpf/vfioguard ] || fail "a refused apply left /sys/fs/bpf/vfioguard"
	[ ! -e /run/vfioguard/policy.yaml ] || fail "a refused apply published a policy"
	exit 0
fi
policy enforce fixed \
	edu-bar0-qemu trap "device: \"$EDU\", region: bar0, comm: $QEMU_COMM" \
	edu-bar0-testvmm trap "device: \"$EDU\", region: bar0, comm: \"vfg-*\"" \
	ivshmem-bar2 direct "device: \"$IVSHMEM\", region: bar2" > trap.yaml
# ivshmem's BAR2 is RAM: said so, only what its mapping's mode forbids is a violation there.
echo "    semantics: memory" >> trap.yaml
# Applied under a umask that would hide them: what is published is readable by all whatever the
# caller's umask (it was 0600 after every apply); the policy's copy and the pins stay root's.
(umask 077; vfioguard policy apply trap.yaml) > apply.out 2>&1 || fail "apply: $(cat apply.out)"
clear_at_exit
expect_eq "modes of what is published" \
	"$(stat -c '%n %a %U' /run/vfioguard /run/vfioguard/regions.json /run/vfioguard/state.json /run/vfioguard/policy.yaml | tr '\n' ' ')" \
	"/run/vfioguard 755 root /run/vfioguard/regions.json 644 root /run/vfioguard/state.json 644 root /run/vfioguard/policy.yaml 600 root "
expect_eq "modes of the pins" "$(stat -c '%a' /sys/fs/bpf/vfioguard /sys/fs/bpf/vfioguard/policy /sys/fs/bpf/vfioguard/link_lsm | tr '\n' ' ')" "700 600 600 "

# What VMMs are told.
r=/run/vfioguard/regions.json
# Registers by default, memory where the rule says: on x86 nothing UC- forbids, on arm64 what
# Device memory does.
case $CACHE_BAR in UC-) mem_violations=none ;; *) mem_violations=wide,unaligned ;; esac
expect_eq "ivshmem BAR2 verdict" "$(jq -r ".devices[] | select(.device == \"$IVSHMEM\") | .regions[] | select(.name == \"BAR2\") | \"\(.access) \(.semantics) \(.violations)\"" $r)" \
	"direct memory $mem_violations"
expect_eq "edu BAR0 semantics" "$(jq -r ".devices[] | select(.device == \"$EDU\") | .regions[] | select(.name == \"BAR0\") | .semantics" $r)" registers
expect_eq "edu BAR0 process rules" "$(jq -c "[.devices[] | select(.device == \"$EDU\") | .regions[] | select(.name == \"BAR0\") | .process_rules[] | [.rule, .access]]" $r)" \
	'[["edu-bar0-qemu","trap"],["edu-bar0-testvmm","trap"]]'
expect_eq "edu BAR0 for other processes" "$(jq -r ".devices[] | select(.device == \"$EDU\") | .regions[] | select(.name == \"BAR0\") | \"\(.access) \(.cache) \(.violations)\"" $r)" \
	"fixed $CACHE_BAR split,dup,reorder,wide,unaligned"

vfioguard advise --qemu > advise.txt || fail "advise: $(cat advise.txt)"
# A normal user (a VMM's, a management layer's) is told the same.
setpriv --reuid=65534 --regid=65534 --clear-groups vfioguard advise --qemu > advise-user.txt 2>&1 ||
	fail "advise as a normal user: $(cat advise-user.txt)"
expect_eq "advise as a normal user" "$(cat advise-user.txt)" "$(cat advise.txt)"
grep -q -- "-device vfio-pci,host=$EDU,x-no-mmap=on" advise.txt || fail "advise: $(cat advise.txt)"
grep -q -- "-device vfio-pci,host=$IVSHMEM\$" advise.txt || fail "advise ivshmem: $(cat advise.txt)"
vfioguard -j advise --libvirt > advise.json
jq -e ".[] | select(.device == \"$EDU\") | .libvirt | contains(\"x-no-mmap\")" advise.json >/dev/null ||
	fail "libvirt advice: $(cat advise.json)"

start_monitor mon.json --accesses
rc=0
vfg-testvmm open $EDU map $EDU bar0 > vmm1.out 2>&1 || rc=$?
expect_eq "test VMM mapping edu BAR0" $rc 1
grep -q "Operation not permitted" vmm1.out || fail "not refused with EPERM: $(cat vmm1.out)"
vfg-testvmm open $IVSHMEM map $IVSHMEM bar2 touch 0 0 0x1000 > vmm2.out 2>&1 ||
	fail "ivshmem BAR2 (direct) refused: $(cat vmm2.out)"

start_qemu
expect_eq "edu register 0 via QEMU's fallback" "$(qtest_edu_reg0)" 0x010000ed
vfioguard -j audit > audit.json
expect_eq "QEMU has no mapping of edu BAR0" "$(jq "[.mappings[] | select(.pid == $QEMU_PID and .region == \"BAR0\")] | length" audit.json)" 0
sleep 1
stop_qemu
stop_monitor mon.json

expect_eq "QEMU's denial" "$(events mon.json ".event == \"policy\" and .pid == $QEMU_PID and .decision == \"denied\" and .rule == \"edu-bar0-qemu\" and .region == \"BAR0\"")" 1
expect_eq "the test VMM's denial" "$(events mon.json ".event == \"policy\" and .comm == \"vfg-testvmm\" and .decision == \"denied\" and .rule == \"edu-bar0-testvmm\"")" 1
expect_eq "ivshmem BAR2 allowed" "$(events mon.json ".event == \"policy\" and .decision == \"allowed\" and .rule == \"ivshmem-bar2\" and .access == \"direct\"")" 1
expect_eq "QEMU reads BAR0 through the fd" "$(events mon.json ".event == \"read\" and .pid == $QEMU_PID and .region == \"BAR0\" and .offset == 0 and .size == 4")" 1

vfioguard -j policy show > show.json; rc=$?
expect_eq "show status (no cache mismatch)" $rc 0
[ "$(jq .denied show.json)" -ge 2 ] || fail "denials not counted: $(cat show.json)"
expect_eq "observed ivshmem BAR2" "$(jq -r ".observed[] | select(.device == \"$IVSHMEM\" and .region == \"BAR2\") | \"\(.assumed) \(.mapped) \(.mismatch)\"" show.json)" "$CACHE_BAR $CACHE_BAR false"
vfioguard policy show > show.txt
grep -Eq "^$IVSHMEM +BAR2 +direct +enforce +$CACHE_BAR +memory +ivshmem-bar2 +$mem_violations\$" show.txt ||
	fail "policy show's ivshmem BAR2 line: $(grep "BAR2" show.txt)"

# Applies and clears go one at a time: while another holds a lock on /run/vfioguard, an apply waits
# (and says so), then applies; the generation moves by one.
gen=$(vfioguard -j policy show | jq .generation)
rm -f held
flock /run/vfioguard sh -c ': > held; sleep 3' &
holder=$!
n=0
until [ -e held ]; do n=$((n + 1)); [ $n -lt 100 ] || fail "the lock was not taken"; sleep 0.1; done
t0=$(date +%s)
vfioguard policy apply trap.yaml > apply2.out 2>&1 || fail "apply after the lock: $(cat apply2.out)"
waited=$(($(date +%s) - t0))
wait $holder
[ $waited -ge 2 ] || fail "apply did not wait for the lock held 3 s (done in $waited s)"
grep -q "waiting for another apply or clear" apply2.out || fail "no word of the wait: $(cat apply2.out)"
expect_eq "generation after the waiting apply" "$(vfioguard -j policy show | jq .generation)" $((gen + 1))
