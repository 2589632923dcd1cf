#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make demo: inside the test guest, real QEMU passes the edu device through with vfio-pci and the
# test VMM maps ivshmem's BARs; vfioguard audit finds every one of those mappings and its cache mode.
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
	ready vmm.ready wait > vmm.out &
vmm=$!
n=0
while [ ! -s vmm.ready ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
grep '^map' vmm.out

say "vfioguard audit"
vfioguard audit

say "vfioguard -p audit (JSON, first mapping)"
vfioguard -j audit | jq -M '.mappings[0]'

exec 3>&-
kill $vmm $qemu 2>/dev/null
wait $vmm $qemu 2>/dev/null || true
say "after both VMMs exit"
vfioguard audit
