# vfioguard serve --web-config: /metrics over TLS with basic authentication, from a file in the
# Prometheus exporters' format. The right user and password get the metrics over https (the
# certificate checked by curl); a wrong password, an unknown user or none get 401 with a Basic
# challenge; plain http gets no metrics. A file with a key vfioguard does not serve is refused
# at start with its file, line and reason (exit 2), as is a hash that is not bcrypt.
# arches: x86_64 -- TLS and authentication are libmicrohttpd's and libcrypt's, built for both
# timeout: 200
. "$VFG_TESTS/lib.sh"

port=19753
# bcrypt of "s3cret" (cost 4).
hash='$2b$04$6R8kphDyRrhmAHSK1vyb4uAj3FFGIw7GzSPAnFVq.ueov3vhAevTy'
cleanup() { [ -z "${SV:-}" ] || kill -TERM $SV 2>/dev/null; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout k.pem \
	-out c.pem -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 > openssl.out 2>&1 ||
	fail "openssl: $(cat openssl.out)"
cat > web.yml <<YAML
tls_server_config:
  cert_file: $PWD/c.pem
  key_file: $PWD/k.pem
basic_auth_users:
  prometheus: '$hash'
YAML

# refused NAME.yml WHAT MESSAGE: serve refuses that file at start (exit 2) with MESSAGE
# (file:line: reason); nothing served.
refused() {
	rc=0
	vfioguard serve --no-policy --no-copies --listen 127.0.0.1:$port --web-config "$1" \
		> "$1.out" 2>&1 || rc=$?
	expect_eq "exit status with $2" $rc 2
	grep -q "$3" "$1.out" || fail "no file:line:reason: $(cat "$1.out")"
}
printf 'tls_server_config:\n  cert_file: %s/c.pem\n  client_auth_type: RequireAndVerifyClientCert\n' \
	"$PWD" > bad.yml
refused bad.yml "an unsupported key" "bad.yml:3: tls_server_config: client_auth_type is not supported"
printf 'basic_auth_users:\n  prometheus: s3cret\n' > plain.yml
refused plain.yml "a password in clear" \
	"plain.yml:2: basic_auth_users: prometheus: expected a bcrypt hash"

start_serve --no-policy --no-copies --listen 127.0.0.1:$port --web-config web.yml --interval 1
grep -q "metrics on https://127.0.0.1:$port/metrics" serve.err || fail "log: $(cat serve.err)"
url=https://127.0.0.1:$port/metrics
# code USER:PASSWORD|-: the HTTP status of a scrape (000: no HTTP answer).
code() {
	rm -f body.txt head.txt
	if [ "$1" = - ]; then
		curl -s --cacert c.pem -o body.txt -D head.txt -w '%{http_code}' "$url" || true
	else
		curl -s --cacert c.pem -u "$1" -o body.txt -D head.txt -w '%{http_code}' "$url" || true
	fi
}
expect_eq "the right password" "$(code prometheus:s3cret)" 200
grep -q '^vfioguard_build_info{' body.txt || fail "no metrics: $(head -5 body.txt)"
expect_eq "again (the verified password)" "$(code prometheus:s3cret)" 200
for who in prometheus:s3cret2 prometheus: nobody:s3cret -; do
	expect_eq "credentials '$who'" "$(code "$who")" 401
	grep -qi '^www-authenticate: basic realm="vfioguard"' head.txt ||
		fail "no Basic challenge for '$who': $(cat head.txt)"
	! grep -q vfioguard_build_info body.txt || fail "metrics for '$who'"
done
rm -f body.txt
rc=$(curl -s -o body.txt -w '%{http_code}' "http://127.0.0.1:$port/metrics" || true)
[ "$rc" != 200 ] || fail "plain http served the metrics"
! grep -q vfioguard_build_info body.txt || fail "plain http served the metrics"
# A client that does not trust the certificate gets nothing either.
rc=0
curl -s -u prometheus:s3cret -o /dev/null "$url" || rc=$?
expect_eq "curl's status without the certificate (60: not verified)" $rc 60
