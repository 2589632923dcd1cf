# Mappings made before monitor starts are shown first, as "existing", and their end is seen.
. "$VFG_TESTS/lib.sh"

start_vmm ready open $IVSHMEM map $IVSHMEM bar2 map $IVSHMEM bar0
start_monitor mon.json --device $IVSHMEM
a=$(awk '/^map 0 /{print $5}' vmm.out)
expect_eq "existing BAR2" "$(events mon.json ".event == \"existing\" and .pid == $VMM_PID and .region == \"BAR2\" and .start == \"$a\" and .cache == \"$CACHE_BAR\" and .size == 16777216")" 1
expect_eq "existing BAR0" "$(events mon.json ".event == \"existing\" and .pid == $VMM_PID and .region == \"BAR0\"")" 1
# Each record tells the process from a later one with its PID by its start time, as /proc does:
# read by the snapshot (existing) and by the probes (unmap, in the exiting process).
vmm_start=$(start_time $VMM_PID)
stop $VMM_PID
sleep 1
stop_monitor mon.json
expect_eq "unmaps at exit" "$(events mon.json ".event == \"unmap\" and .pid == $VMM_PID")" 2
expect_eq "start time of the existing and unmap lines (/proc's: $vmm_start)" \
	"$(events mon.json "(.event == \"existing\" or .event == \"unmap\") and .pid == $VMM_PID and .start_time == $vmm_start")" 4
expect_eq "summary: both ended" "$(tail -1 mon.json | jq "[.mappings[] | select(.pid == $VMM_PID and .existing and .unmapped)] | length")" 2
