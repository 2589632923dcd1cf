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
rc=0; vfioguard --version > out || rc=$?
expect_eq "version status" $rc 0
grep -q '^vfioguard ' out || fail "version: $(cat out)"
