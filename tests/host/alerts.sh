# The alerting rules and scrape configuration in docs/prometheus: promtool accepts them, the
# rules fire on the states they name and stay quiet otherwise (promtool test rules), and every
# vfioguard metric they use is one serve exports (a family of the renderer's golden file, which
# promtool's linter accepts too).
. "$VFG_TESTS/../guest/lib.sh"

top=$(cd "$VFG_TESTS/../.." && pwd)
promtool=$("$top/tests/vm/promtool" "$(uname -m | sed 's/aarch64/arm64/')") ||
	fail "cannot fetch promtool"
cp "$top/docs/prometheus/vfioguard-rules.yml" "$top/docs/prometheus/scrape.yml" \
	"$VFG_TESTS/alerts-test.yml" .
"$promtool" check rules vfioguard-rules.yml > check.out 2>&1 || fail "check rules: $(cat check.out)"
"$promtool" check config scrape.yml > config.out 2>&1 || fail "check config: $(cat config.out)"
"$promtool" test rules alerts-test.yml > test.out 2>&1 || fail "test rules: $(cat test.out)"
golden=$top/tests/unit/golden/metrics.prom
"$promtool" check metrics < "$golden" > lint.out 2>&1 || fail "check metrics: $(cat lint.out)"
for m in $(grep -o 'vfioguard_[a-z_]*' vfioguard-rules.yml | sort -u); do
	grep -q "^# TYPE $m " "$golden" || fail "the rules use $m, which serve does not export"
done
