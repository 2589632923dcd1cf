# calibrate on this machine's libc reproduces the measured facts of DESIGN.md ("What glibc
# teaches") for the memcpy variant this CPU gets, and every traced store sequence, replayed
# onto a buffer, gives exactly the bytes the routine produced.
. "$VFG_TESTS/../guest/lib.sh"

[ "$(uname -m)" = x86_64 ] || skip "the facts pinned here are x86_64 glibc's"
rc=0
vfioguard -j calibrate --routine memcpy,memmove --lengths 1-16,33,1024 --aligns 0 > c.json 2> err || rc=$?
if [ $rc -ne 0 ] && grep -q "ptrace" err; then
	skip "ptrace is not allowed here: $(cat err)"
fi
expect_eq "exit status" $rc 0
stores() { jq -r ".cases[] | select(.routine == \"$1\" and .length == $2 and .same_page_offset == false) | [.stores[] | \"\(.[1])@\(.[0])\"] | join(\" \")" c.json; }
hazards() { jq -r ".cases[] | select(.routine == \"$1\" and .length == $2 and .same_page_offset == ${3:-false}) | .hazards" c.json; }

expect_eq "1 byte" "$(stores memcpy 1)" "1@0"
expect_eq "2 bytes" "$(stores memcpy 2)" "2@0 1@0"
expect_eq "3 bytes: high part first" "$(stores memcpy 3)" "2@1 1@0"
expect_eq "4 bytes: two stores to the same address" "$(stores memcpy 4)" "4@0 4@0"
# 5..7 bytes: two overlapping 4-byte stores. Their order depends on the variant: the AVX-512
# one (build hosts) stores the low one first, the AVX2 one (the test guest) the high one first,
# which is a reorder.
sorted() { echo "$1" | tr ' ' '\n' | sort | tr '\n' ' '; }
for n in 5 6 7; do
	expect_eq "$n bytes (set)" "$(sorted "$(stores memcpy $n)")" "$(sorted "4@0 4@$((n - 4))")"
	case "$(stores memcpy $n)" in
	"4@0 "*) expect_eq "$n bytes hazards" "$(hazards memcpy $n)" dup,unaligned ;;
	*) expect_eq "$n bytes hazards (high first)" "$(hazards memcpy $n)" dup,reorder,unaligned ;;
	esac
done
note "5 bytes: $(stores memcpy 5)"
expect_eq "8 bytes" "$(stores memcpy 8)" "8@0 8@0"
for n in 9 10 11 12 13 14 15; do expect_eq "$n bytes" "$(stores memcpy $n)" "8@0 8@$((n - 8))"; done
expect_eq "4 bytes hazards" "$(hazards memcpy 4)" dup
expect_eq "3 bytes hazards" "$(hazards memcpy 3)" reorder,unaligned
case $(hazards memcpy 16) in *wide*) ;; *) fail "16 bytes: no vector store: $(stores memcpy 16)" ;; esac
# More than 8 vectors, source and destination at the same offset in a 4 KiB page: backwards.
case $(hazards memcpy 1024 true) in *reorder*) ;; *) fail "1 KiB with 4 KiB aliasing is not backwards" ;; esac
first=$(jq -r '.cases[] | select(.routine == "memcpy" and .length == 1024 and .same_page_offset) | .stores[0][0]' c.json)
[ "$first" -gt 0 ] || fail "1 KiB aliased copy starts at offset $first, not at the top"
# memcpy is memmove on x86_64: the same stores.
for n in 1 3 4 15; do expect_eq "memmove $n" "$(stores memmove $n)" "$(stores memcpy $n)"; done
# The loads from the source, what a copy out of device memory does to it: a 4-byte copy reads
# the source twice, an 8-byte one too.
loads() { jq -r ".cases[] | select(.routine == \"$1\" and .length == $2 and .same_page_offset == false) | [.loads[] | \"\(.[1])@\(.[0])\"] | join(\" \")" c.json; }
load_hazards() { jq -r ".cases[] | select(.routine == \"$1\" and .length == $2 and .same_page_offset == false) | .load_hazards" c.json; }
expect_eq "4 bytes: two loads of the same address" "$(loads memcpy 4)" "4@0 4@0"
expect_eq "4 bytes: load hazards" "$(load_hazards memcpy 4)" dup
expect_eq "8 bytes: two loads" "$(loads memcpy 8)" "8@0 8@0"
expect_eq "1 byte: one load" "$(loads memcpy 1)" "1@0"
case $(load_hazards memcpy 16) in *wide*) ;; *) fail "16 bytes: no vector load: $(loads memcpy 16)" ;; esac
expect_eq "every trace replays to the routine's result" \
	"$(jq '[.cases[] | select(.replay_ok | not)] | length' c.json)" 0
# 4 KiB aliasing: a 1 KiB memcpy goes backwards exactly when (dst - src) mod 4096 is below the
# window calibrate --alias measures, not only at the same page offset. The destination at page
# offset 64 and the source at 30 or 3996 (backwards), 100 or 2048 (forwards).
vfioguard -j calibrate --alias --routine memcpy --lengths 16,1024 > a.json
expect_eq "16 bytes: no window" "$(jq '.alias_windows[] | select(.length == 16) | .window' a.json)" 0
w=$(jq '.alias_windows[] | select(.length == 1024) | .window' a.json)
[ "$w" -gt 1 ] 2>/dev/null || fail "1 KiB: window $w, want more than the same offset"
note "1 KiB memcpy: (dst - src) mod 4096 < $w goes backwards"
dirs=
for src in 30 3996 100 2048; do
	d=$(((64 - src) & 4095))
	vfioguard -j calibrate --routine memcpy --lengths 1024 --aligns 0 --page-delta $d > d.json
	first=$(jq '.cases[0].stores[0][0]' d.json)
	dir=forwards; [ "$first" -lt 512 ] || dir=backwards
	side=outside; [ $d -ge "$w" ] || side=inside
	dirs="$dirs $src:$dir:$side"
done
expect_eq "direction by source page offset" "$dirs" \
	" 30:backwards:inside 3996:backwards:inside 100:forwards:outside 2048:forwards:outside"
