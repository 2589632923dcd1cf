# Copy probes on this machine's kernel (no VFIO here): audit --copies --libc attaches to the libc
# memcpy/memmove/memset a process really calls and counts every call, reports none as touching
# device memory, and a --probe on an exported libc function counts that function's calls.
. "$VFG_TESTS/../guest/lib.sh"

[ "$(id -u)" = 0 ] || skip "uprobes need root"
vfioguard -j features > f.json || fail "features exited $?"
[ "$(jqf f.json .features.uprobe.available)" = true ] ||
	skip "this kernel refuses uprobes: $(jqf f.json .features.uprobe.detail)"

rm -f ready go
vfg-testvmm ready ready waitfile go loop ram 2000 64 ramcopy 64 ramcopy 64 ramcopy 64 sleep 1 \
	> vmm.out 2>&1 &
vmm=$!
wait_ready ready $vmm
libc=$(awk '/libc.so/ && $3 == "00000000" {print $6; exit}' /proc/$vmm/maps)
[ -n "$libc" ] || fail "no libc in the test VMM's maps"
vfioguard -v -j audit --copies --duration 6 --pid $vmm --libc \
	--probe "$libc:calloc:dst=arg0,len=arg1,like=none" > a.json 2> a.err &
apid=$!
# -v says when the probes of the process are attached.
n=0
until grep -q "pid $vmm: .* probes attached" a.err; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "probes not attached: $(cat a.err)"
	sleep 0.05
done
touch go
set +e; wait $apid; rc=$?; set -e
wait $vmm || fail "test VMM failed: $(cat vmm.out)"
expect_eq "audit --copies exit status" $rc 0
hits=$(jq '[.copies.targets[] | select(.target | contains("memcpy")) | .hits] | add' a.json)
[ "$hits" -ge 2003 ] || fail "memcpy hits: $hits, want at least 2003 (2000 in the loop, 3 in ramcopy): $(cat a.err)"
expect_eq "calls that touched device memory" "$(jq '[.copies.targets[].device] | add' a.json)" 0
expect_eq "copies reported" "$(jq '.copies.by_region | length' a.json)" 0
calloc=$(jq '[.copies.targets[] | select(.target | contains("calloc")) | .hits] | add' a.json)
[ "$calloc" -ge 6 ] || fail "calloc hits: $calloc, want at least 6"
# The probe is where the dynamic linker resolved memcpy for this process.
jq -r '.copies.targets[].target' a.json | grep -q '^libc memcpy' || fail "no libc memcpy target"
