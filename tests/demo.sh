#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make demo: inside the test guest, real QEMU passes the edu device through with vfio-pci and the
# test VMM maps ivshmem's BARs; vfioguard audit finds every one of those mappings and its cache mode,
# and monitor --copies flags the copies into them that break the rules of that cache mode.
set -eu
. "$VFG_TOP/tests/guest/lib.sh" # EDU, IVSHMEM, start_qemu, qtest_edu_reg0
cd /tmp

say() { printf '\n== %s\n' "$*"; }

say "what this guest kernel offers vfioguard"
vfioguard features

say "starting real QEMU with -device vfio-pci,host=$EDU (no guest CPU; qtest drives it)"
start_qemu
qemu=$QEMU_PID
echo "QEMU (pid $qemu) reads edu register 0 through its mapping: $(qtest_edu_reg0)"

say "starting the test VMM: maps ivshmem BAR0 and BAR2"
vfg-testvmm open $IVSHMEM map $IVSHMEM bar0 map $IVSHMEM bar2 copy 1 0 64 memcpy \
	ready vmm.ready waitfile go copy 1 0x100 4 memcpy copy 1 0x201 3 memcpy copy 1 0x300 8 memcpy \
	ramcopy 64 wait > vmm.out &
vmm=$!
n=0
while [ ! -s vmm.ready ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
grep '^map' vmm.out

say "vfioguard audit"
vfioguard audit

say "vfioguard -p audit (JSON, first mapping)"
vfioguard -j audit | jq -M '.mappings[0]'

say "vfioguard monitor --copies --libc --pid $vmm, while the test VMM copies 4, 3 and 8 bytes into BAR2 with memcpy"
export VFIOGUARD_CACHE_DIR=/tmp/vfg-cache
vfioguard monitor --copies --libc --pid $vmm --duration 12 > copies.out 2> copies.err &
mon=$!
sleep 6
touch go
wait $mon || true
grep -v '^[0-9.]* *existing' copies.out
echo "QEMU's memory core would be watched the same way (the qemu profile): see tests/guest/copies-qemu.sh"

exec 3>&-
kill $vmm $qemu 2>/dev/null
wait $vmm $qemu 2>/dev/null || true
say "after both VMMs exit"
vfioguard audit
