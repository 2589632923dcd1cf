# policy explain against a real device of this machine: its PCI IDs and driver from sysfs decide
# which rule matches; the first match wins; nothing matching gives the default.
. "$VFG_TESTS/../guest/lib.sh"

dev=$(ls /sys/bus/pci/devices 2>/dev/null | head -1)
[ -n "$dev" ] || skip "no PCI devices here"
vendor=$(cat /sys/bus/pci/devices/$dev/vendor)
cat > p.yaml <<YAML
default: direct
rules:
  - name: other-vendor
    match: {vendor: 0x$(printf '%04x' $(( (vendor + 1) & 0xffff )))}
    access: trap
  - name: this-vendor-qemu
    match: {vendor: $vendor, comm: qemu-system-x86}
    access: trap
  - name: this-vendor
    match: {vendor: $vendor, region: [bar0, config]}
    access: fixed
  - name: this-vendor-ram
    match: {vendor: $vendor, region: bar4}
    access: direct
    semantics: memory
YAML
vfioguard -j policy explain --policy p.yaml --device $dev --region bar0 > a.json
expect_eq "rule for any process" "$(jq -r .rule a.json)" this-vendor
expect_eq "access" "$(jq -r .access a.json)" fixed
vfioguard -j policy explain --policy p.yaml --device $dev --region bar0 --comm qemu-system-x86 > b.json
expect_eq "rule for QEMU" "$(jq -r '"\(.rule) \(.line) \(.access)"' b.json)" "this-vendor-qemu 6 trap"
vfioguard -j policy explain --policy p.yaml --device $dev --region bar2 > c.json
expect_eq "default" "$(jq -r '"\(.rule) \(.access)"' c.json)" "null direct"
vfioguard policy explain --policy p.yaml --device $dev --region rom > d.txt
grep -q "by the default: no rule matches" d.txt || fail "text: $(cat d.txt)"
rc=0; vfioguard policy explain --policy p.yaml --device $dev --region bar9 2> e.txt || rc=$?
expect_eq "bad region" $rc 2
# What the region holds decides a direct region's violations: registers (the default of every
# driver but nvgrace-gpu's device memory) are broken by split, dup and reorder in a
# write-combined mapping too; memory, as a rule says here, by nothing that mode forbids.
case $(uname -m) in aarch64) wc=Normal-NC uc=Device-nGnRnE ;; *) wc=WC uc=UC- ;; esac
vfioguard -j policy explain --policy p.yaml --device $dev --region bar2 --cache $wc > f.json
expect_eq "registers by default" "$(jq -r '"\(.semantics) \(.semantics_by) \(.violations)"' f.json)" \
	"registers default split,dup,reorder"
vfioguard -j policy explain --policy p.yaml --device $dev --region bar4 --cache $wc > g.json
expect_eq "memory by the rule" "$(jq -r '"\(.rule) \(.semantics) \(.semantics_by) \(.violations)"' g.json)" \
	"this-vendor-ram memory rule none"
vfioguard -j policy explain --policy p.yaml --device $dev --region bar0 --cache $uc > h.json
expect_eq "fixed forbids everything" "$(jq -r .violations h.json)" "split,dup,reorder,wide,unaligned"
vfioguard policy explain --policy p.yaml --device $dev --region bar4 --cache $wc > i.txt
grep -q "semantics: memory, by the rule$" i.txt || fail "text: $(cat i.txt)"
grep -q "violations: none, for memory in cache mode $wc$" i.txt || fail "text: $(cat i.txt)"
vfioguard policy explain --policy p.yaml --device $dev --region bar0 > j.txt
grep -q "(no effect: not direct)$" j.txt || fail "text: $(cat j.txt)"
grep -q "violations: split,dup,reorder,wide,unaligned, every hazard: a fixed region allows none$" j.txt ||
	fail "text: $(cat j.txt)"
