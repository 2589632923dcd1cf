# The same facts as tests/host/calibrate-facts.sh, on the guest's CPU (another IFUNC variant).
. "$VFG_TESTS/../host/calibrate-facts.sh"
