# The same facts as tests/host/calibrate-facts.sh, on the guest's CPU (another IFUNC variant).
# arches: x86_64
. "$VFG_TESTS/../host/calibrate-facts.sh"
