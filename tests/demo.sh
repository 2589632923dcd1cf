#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make demo: inside the test guest, real QEMU passes the edu device through with vfio-pci and the
# test VMM maps ivshmem's BARs; vfioguard audit finds every one of those mappings and its cache mode.
set -eu
EDU=0000:00:03.0
IVSHMEM=0000:00:04.0
cd /tmp

say() { printf '\n== %s\n' "$*"; }

say "what this guest kernel offers vfioguard"
vfioguard features

say "starting real QEMU with -device vfio-pci,host=$EDU (no guest CPU; qtest drives it)"
mkfifo qtest.in
qemu-system-x86_64 -machine q35,accel=tcg -S -qtest stdio -display none -nodefaults \
	-device vfio-pci,host=$EDU,addr=02.0 < qtest.in > qtest.out 2> qemu.err &
qemu=$!
exec 3> qtest.in
printf '%s\n' 'outl 0xcf8 0x80001010' 'outl 0xcfc 0xe0000000' 'outl 0xcf8 0x80001004' \
	'outw 0xcfc 6' 'readl 0xe0000000' >&3
n=0
while [ "$(grep -c '^OK' qtest.out)" -lt 5 ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
echo "QEMU (pid $qemu) reads edu register 0 through its mapping: $(tail -1 qtest.out)"

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
