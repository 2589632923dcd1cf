# calibrate on the guest's CPU: the facts of the copy routine glibc picks there, every trace
# replaying to the bytes the routine produced. x86_64: the same facts as
# tests/host/calibrate-facts.sh (the guest gets the AVX2 variant). aarch64: measured in the arm64
# guest, with SVE (-cpu max) and without (-cpu max,sve=off); README, "arm64".
. "$VFG_TESTS/lib.sh"

if [ $ARCH_NAME = x86_64 ]; then
	. "$VFG_TESTS/../host/calibrate-facts.sh"
	# Past glibc's thresholds the routines are rep movsb and rep stosb: single-stepped, one
	# byte per step, and said to be a string instruction (whose hazards then follow the
	# destination's mode); below, not. Measured in the guest (AVX2, ERMS): memset from 2 KiB on
	# (4 KiB is), memcpy between 8 and 16 KiB (the build hosts': from 4 KiB).
	VFIOGUARD_CACHE_DIR=$PWD/cache vfioguard -j calibrate --routine memcpy,memset \
		--lengths 1024,4096,16384 --aligns 0 > s.json 2> err || fail "calibrate exited $?: $(cat err)"
	expect_eq "string instructions (memcpy, memset; 1, 4 and 16 KiB)" \
		"$(jq -r '[.cases[] | select(.same_page_offset | not) | "\(.routine) \(.length) \(.string)"] | join(", ")' s.json)" \
		"memcpy 1024 false, memcpy 4096 false, memcpy 16384 true, memset 1024 false, memset 4096 true, memset 16384 true"
	expect_eq "4 KiB memset's trace (rep stosb, one byte per step)" \
		"$(jq -r '.cases[] | select(.routine == "memset" and .length == 4096) | "\(.store_count) \(.hazards)"' s.json)" \
		"4096 none"
	exit 0
fi

vfioguard -j calibrate --routine memcpy,memmove,memset --lengths 1-9,12,13,15,16,17,32,33,128,129 \
	--aligns 0,1 > c.json 2> err || fail "calibrate exited $?: $(cat err)"
stores() { jq -r ".cases[] | select(.routine == \"$1\" and .length == $2 and .align == ${3:-0} and .same_page_offset == false) | [.stores[] | \"\(.[1])@\(.[0])\"] | join(\" \")" c.json; }
hazards() { jq -r ".cases[] | select(.routine == \"$1\" and .length == $2 and .align == ${3:-0} and .same_page_offset == false) | .hazards" c.json; }
loads() { jq -r ".cases[] | select(.routine == \"$1\" and .length == $2 and .align == ${3:-0} and .same_page_offset == false) | if .loads then [.loads[] | \"\(.[1])@\(.[0])\"] | join(\" \") else \"unknown\" end" c.json; }
load_hazards() { jq -r ".cases[] | select(.routine == \"$1\" and .length == $2 and .align == ${3:-0} and .same_page_offset == false) | .load_hazards" c.json; }
expect_eq "every trace replays to the routine's result" \
	"$(jq '[.cases[] | select(.replay_ok | not)] | length' c.json)" 0

if grep -qw sve /proc/cpuinfo; then
	note "SVE: $(grep -m1 Features /proc/cpuinfo)"
	# One predicated SVE store (whilelo + st1b) of exactly the length, up to a vector: capstone 4
	# cannot decode it, so its bytes are found by comparison and it counts as a vector store.
	for n in 1 2 3 4 5 8 15 16 17 32 33; do
		expect_eq "SVE memcpy of $n bytes" "$(stores memcpy $n)" "$n@0"
		expect_eq "SVE memcpy of $n bytes: hazards" "$(hazards memcpy $n)" wide
		expect_eq "SVE memcpy of $n bytes at +1: hazards" "$(hazards memcpy $n 1)" wide,unaligned
		expect_eq "SVE memmove of $n bytes" "$(stores memmove $n)" "$n@0"
	done
	expect_eq "found by comparison" "$(jq '[.cases[] | select(.routine == "memcpy" and .length <= 16) | .inferred_steps > 0] | all' c.json)" true
	# Past the vector length: head and overlapping 32-byte (q-pair) stores.
	case $(hazards memcpy 129) in *dup*wide*unaligned*) ;; *) fail "129 bytes: $(stores memcpy 129)" ;; esac
	# The loads of a predicated SVE load (ld1b) are not known to capstone 4: not measured.
	expect_eq "SVE memcpy of 4 bytes: loads" "$(loads memcpy 4)" unknown
	expect_eq "SVE memcpy of 4 bytes: load hazards" "$(load_hazards memcpy 4)" null
else
	note "no SVE: $(grep -m1 Features /proc/cpuinfo)"
	# glibc's generic aarch64 memcpy: 0..3 bytes are three byte stores at 0, n/2 and n-1, so a
	# 1-byte copy stores its byte three times (the bug behind the upstream discussion).
	expect_eq "1 byte: three stores to the same address" "$(stores memcpy 1)" "1@0 1@0 1@0"
	expect_eq "1 byte hazards" "$(hazards memcpy 1)" dup
	# It loads the byte three times as well: a copy out of a register reads it thrice.
	expect_eq "1 byte: three loads of the same address" "$(loads memcpy 1)" "1@0 1@0 1@0"
	expect_eq "1 byte load hazards" "$(load_hazards memcpy 1)" dup
	expect_eq "4 bytes: two loads" "$(loads memcpy 4)" "4@0 4@0"
	expect_eq "2 bytes" "$(stores memcpy 2)" "1@0 1@1 1@1"
	expect_eq "2 bytes hazards" "$(hazards memcpy 2)" split,dup
	expect_eq "3 bytes" "$(stores memcpy 3)" "1@0 1@1 1@2"
	expect_eq "3 bytes hazards" "$(hazards memcpy 3)" none
	expect_eq "4 bytes" "$(stores memcpy 4)" "4@0 4@0"
	for n in 5 6 7; do expect_eq "$n bytes" "$(stores memcpy $n)" "4@0 4@$((n - 4))"; done
	expect_eq "8 bytes" "$(stores memcpy 8)" "8@0 8@0"
	for n in 9 12 15; do expect_eq "$n bytes" "$(stores memcpy $n)" "8@0 8@$((n - 8))"; done
	# 16..32 bytes: two overlapping q-register stores (ldp/stp of x pairs count the same).
	expect_eq "16 bytes" "$(stores memcpy 16)" "16@0 16@0"
	expect_eq "17 bytes" "$(stores memcpy 17)" "16@0 16@1"
	expect_eq "17 bytes hazards" "$(hazards memcpy 17)" dup,wide,unaligned
	expect_eq "32 bytes" "$(stores memcpy 32)" "16@0 16@16"
	expect_eq "33 bytes" "$(stores memcpy 33)" "32@0 32@1"
	# 65..128 bytes store the middle pair first: out of order.
	expect_eq "128 bytes" "$(stores memcpy 128)" "32@64 32@0 32@32 32@96"
	expect_eq "128 bytes hazards" "$(hazards memcpy 128)" reorder,wide
	# memmove is another routine on aarch64, with the same small-copy code.
	for n in 1 2 3 4 17; do expect_eq "memmove $n" "$(stores memmove $n)" "$(stores memcpy $n)"; done
	expect_eq "memset 1 byte" "$(stores memset 1)" "1@0 1@0 1@0"
	# 4..15 bytes: four s-register stores, two of them at a scaled register index
	# ("str s0, [x0, x3, lsl #2]").
	expect_eq "memset 8 bytes" "$(stores memset 8)" "4@0 4@4 4@0 4@4"
	expect_eq "memset 13 bytes" "$(stores memset 13)" "4@0 4@4 4@5 4@9"
	expect_eq "nothing inferred" "$(jq '[.cases[] | .inferred_steps] | add' c.json)" 0
fi
