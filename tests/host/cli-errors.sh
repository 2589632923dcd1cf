# Usage errors exit 2 and say what was wrong, in text and in JSON.
. "$VFG_TESTS/../guest/lib.sh"

rc=0; vfioguard no-such-command > out 2> err || rc=$?
expect_eq "unknown command status" $rc 2
grep -q "no-such-command" err || fail "message does not name the command: $(cat err)"
rc=0; vfioguard -j no-such-command > out 2> err || rc=$?
expect_eq "unknown command status (json)" $rc 2
jq -e .error out >/dev/null || fail "no JSON error object: $(cat out)"
rc=0; vfioguard audit --no-such-option > out 2> err || rc=$?
expect_eq "unknown option status" $rc 2
# Every command that takes no operands names the first one (options after it are taken too).
stray_operand() { # COMMAND ARGS...
	cmd=$1; shift
	rc=0; vfioguard $cmd "$@" > out 2> err || rc=$?
	expect_eq "$cmd $*: status" $rc 2
	grep -q "$cmd: unexpected argument 'stray' (see vfioguard $cmd --help)" err ||
		fail "$cmd $*: $(cat err)"
}
for cmd in audit monitor calibrate features serve advise "policy explain"; do
	stray_operand "$cmd" stray
done
# Options after the operand are taken too: with -j the error is JSON on stdout.
rc=0; vfioguard monitor stray -j > out 2> err || rc=$?
expect_eq "monitor stray -j: status" $rc 2
jq -e '.error | test("unexpected argument .stray.")' out >/dev/null ||
	fail "monitor stray -j: no JSON error: $(cat out err)"
rc=0; vfioguard --version > out || rc=$?
expect_eq "version status" $rc 0
grep -q '^vfioguard ' out || fail "version: $(cat out)"

# Copy options: each malformed --probe names what is wrong; --copies and --duration go together.
for spec in "foo|is not BINARY:SYMBOL" "/bin/true:main:len=arg1|dst= and len= are needed" \
	"/bin/true:main:dst=arg9,len=arg1|expected arg0..arg4" \
	"/bin/true:main:dst=arg0,len=arg1,like=fast|like=fast" \
	"/bin/true:main:dst=arg0,len=arg1,size=4|unknown key 'size'"; do
	rc=0; vfioguard monitor --probe "${spec%%|*}" > out 2> err || rc=$?
	expect_eq "--probe ${spec%%|*} status" $rc 2
	grep -qF -- "${spec#*|}" err || fail "--probe ${spec%%|*}: $(cat err)"
done
rc=0; vfioguard audit --copies > out 2> err || rc=$?
expect_eq "audit --copies without --duration" $rc 2
grep -q "needs --duration" err || fail "audit --copies: $(cat err)"
rc=0; vfioguard audit --duration 5 > out 2> err || rc=$?
expect_eq "audit --duration without --copies" $rc 2
for spec in "/bin/true:prov:dst=arg0,len=arg1|is not BINARY:PROVIDER:NAME" \
	"/bin/true:prov:name:dst=arg12,len=arg1|expected arg0..arg11"; do
	rc=0; vfioguard monitor --usdt "${spec%%|*}" > out 2> err || rc=$?
	expect_eq "--usdt ${spec%%|*} status" $rc 2
	grep -qF -- "${spec#*|}" err || fail "--usdt ${spec%%|*}: $(cat err)"
done
# calibrate: a placement is a page offset.
for v in 4096 -1 x; do
	rc=0; vfioguard calibrate --page-delta "$v" > out 2> err || rc=$?
	expect_eq "calibrate --page-delta $v status" $rc 2
	grep -q "page-delta: '$v' is not a page offset 0..4095" err || fail "--page-delta $v: $(cat err)"
done
