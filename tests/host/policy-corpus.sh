# Every malformed policy in tests/policy/bad is rejected by policy check with exit 2 and the
# file:line:column and reason its first line expects; the good ones pass, with the warnings they
# expect and no others.
. "$VFG_TESTS/../guest/lib.sh"

dir=$VFG_TESTS/../policy
n=0
for f in "$dir"/bad/*.yaml; do
	want=$(sed -n '1s/^# expect: //p' "$f")
	rc=0
	vfioguard policy check "$f" > out 2> err || rc=$?
	[ $rc -eq 2 ] || fail "$(basename "$f"): exit $rc, want 2"
	grep -qF "$f:$want" err || fail "$(basename "$f"): want '$want', got: $(cat err)"
	[ ! -s out ] || fail "$(basename "$f"): printed a verdict for a bad policy: $(cat out)"
	# apply refuses it the same way, before touching anything.
	if [ "$(id -u)" = 0 ]; then
		rc=0
		vfioguard policy apply "$f" > out 2> err || rc=$?
		[ $rc -eq 2 ] || fail "$(basename "$f"): apply exit $rc, want 2"
		grep -qF "$f:$want" err || fail "$(basename "$f"): apply: $(cat err)"
		grep -q "nothing was applied" err || fail "$(basename "$f"): apply: $(cat err)"
		[ ! -e /sys/fs/bpf/vfioguard ] || fail "$(basename "$f"): apply left pins"
	fi
	# The JSON form says the same.
	vfioguard -j policy check "$f" > out.json 2>/dev/null && fail "$(basename "$f"): -j exit 0"
	jq -e '.valid == false and (.errors | length) > 0' out.json >/dev/null ||
		fail "$(basename "$f"): JSON: $(cat out.json)"
	n=$((n + 1))
done
[ $n -ge 30 ] || fail "only $n malformed policies"
note "$n malformed policies rejected"

for f in "$dir"/good/*.yaml "$VFG_TESTS"/../../docs/examples/*.yaml; do
	want=$(sed -n '1s/^# expect: //p' "$f")
	vfioguard policy check "$f" > out 2> err || fail "$(basename "$f"): exit $?: $(cat err)"
	case $want in
	""|nothing) [ ! -s err ] || fail "$(basename "$f"): unexpected: $(cat err)" ;;
	*) grep -qF "$f:$want" err || fail "$(basename "$f"): want '$want', got: $(cat err)"
	   [ "$(wc -l < err)" -eq 1 ] || fail "$(basename "$f"): more than the expected: $(cat err)" ;;
	esac
done

# A rule's semantics as check reads them: given, or null (the driver's default decides).
vfioguard -j policy check "$VFG_TESTS"/../../docs/examples/gh100-host.yaml > gh.json
expect_eq "GH100 rules' semantics" "$(jq -r '[.rules[].semantics] | map(. // "default") | join(" ")' gh.json)" \
	"memory default default"
