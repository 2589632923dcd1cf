# bash completion (docs/vfioguard.bash-completion) against the program itself: it offers every
# command and every option each command's --help lists, each option it offers is one the command
# accepts (getopt does not call it unrecognized), and the values it lists for an option are the
# ones vfioguard takes.
. "$VFG_TESTS/../guest/lib.sh"

bc=/usr/share/bash-completion/bash_completion
[ -r $bc ] || fail "$bc missing: make deps installs bash-completion"
script=$VFG_TESTS/../../docs/vfioguard.bash-completion

# comp WORD...: what completing the last WORD offers, one per line, sorted.
comp() {
	bash -c '
		. "$1"; . "$2"; shift 2
		compopt() { :; } # outside a real completion the builtin only complains
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_vfioguard vfioguard "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' sh $bc "$script" vfioguard "$@" | sed '/^$/d' | sort
}

# The options in a usage text's "Usage:" block (the lines up to the first prose line).
usage_opts() {
	awk '/^Usage:/ { u = 1 } u && !/^(Usage:| )/ { exit } u' | grep -o -- '--[a-z][a-z-]*' |
		sort -u
}

want_all() { # WHAT OFFERED WANTED: every line of WANTED is in OFFERED
	missing=$(printf '%s\n' "$3" | sort -u | comm -23 - "$2" | tr '\n' ' ')
	[ -z "$missing" ] || fail "$1: completion lacks $missing(offered: $(tr '\n' ' ' < "$2"))"
}

# accepted "CMD [SUB]" OPT: getopt knows OPT. "OPT=1 -h": an option that takes a value takes 1
# and -h ends the command before it runs; one that takes none is refused for the value, not as
# unknown.
accepted() {
	# shellcheck disable=SC2086
	timeout 20 vfioguard $1 "$2=1" -h > acc.out 2>&1 || true
	! grep -q "unrecognized option\|invalid option" acc.out
}

commands=$(vfioguard --help | awk '/^Commands:/ { c = 1; next } c && /^$/ { exit } c { print $1 }')
[ "$(echo "$commands" | wc -l)" -ge 6 ] || fail "vfioguard --help lists no commands: $commands"
comp '' > c.txt
[ "$(cat c.txt)" = "$(echo "$commands" | sort)" ] ||
	fail "commands offered: $(tr '\n' ' ' < c.txt), --help lists: $commands"
comp -- > c.txt
want_all "global options" c.txt "$(vfioguard --help | grep -o -- '--[a-z][a-z-]*' | sort -u)"
# After a global option the command is still completed.
comp -j pol > c.txt
[ "$(cat c.txt)" = policy ] || fail "'vfioguard -j pol' offered: $(cat c.txt)"

common='--json --pretty --verbose --help'
for cmd in $commands; do
	[ "$cmd" = policy ] && continue
	comp "$cmd" -- > "$cmd.txt"
	vfioguard "$cmd" --help > "$cmd.help" || fail "$cmd --help exited $?"
	want=$(usage_opts < "$cmd.help")
	[ -z "$want" ] || want_all "$cmd" "$cmd.txt" "$want"
	for o in $(grep -- '^--' "$cmd.txt"); do
		accepted "$cmd" "$o" || fail "completion offers $cmd $o, which $cmd refuses: $(cat acc.out)"
	done
	# The options every command takes after its name, where getopt takes them.
	for o in $common; do
		accepted "$cmd" "$o" || continue
		grep -qx -- "$o" "$cmd.txt" || fail "$cmd accepts $o; completion does not offer it"
	done
done

# policy: the subcommands, then each one's options.
comp policy '' > p.txt
[ "$(tr '\n' ' ' < p.txt)" = "apply check clear explain show " ] ||
	fail "policy subcommands offered: $(cat p.txt)"
vfioguard policy --help > policy.help
for sub in check apply show clear explain; do
	comp policy "$sub" -- > "policy-$sub.txt"
	want=$(awk -v s="vfioguard policy $sub" 'index($0, s) { u = 1; print; next }
		u && /^ / && !/vfioguard policy/ { print; next } { u = 0 }' policy.help |
		grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ -z "$want" ] || want_all "policy $sub" "policy-$sub.txt" "$want"
	for o in $(grep -- '^--' "policy-$sub.txt"); do
		accepted "policy $sub" "$o" ||
			fail "completion offers policy $sub $o, which it refuses: $(cat acc.out)"
	done
done
want_all "policy explain" policy-explain.txt "--policy
--device
--region
--cache"

# Values.
comp monitor --region bar > v.txt
[ "$(tr '\n' ' ' < v.txt)" = "bar0 bar1 bar2 bar3 bar4 bar5 " ] || fail "--region bar: $(cat v.txt)"
for r in $(comp monitor --region ''); do
	vfioguard policy explain --policy "$VFG_TESTS/../../docs/examples/default-host.yaml" \
		--device 0000:00:00.0 --region "$r" > /dev/null 2> e.txt
	! grep -q "region" e.txt || fail "--region $r is offered but refused: $(cat e.txt)"
done
comp policy explain --cache Device- > v.txt
[ "$(tr '\n' ' ' < v.txt)" = "Device-GRE Device-nGnRE Device-nGnRnE " ] ||
	fail "--cache Device-: $(cat v.txt)"
for m in $(comp policy explain --cache ''); do
	vfioguard policy explain --policy "$VFG_TESTS/../../docs/examples/default-host.yaml" \
		--device 0000:00:00.0 --region bar0 --cache "$m" > /dev/null 2> e.txt
	! grep -q "cache mode" e.txt || fail "--cache $m is offered but refused: $(cat e.txt)"
done
comp calibrate --routine memcpy,memm > v.txt
[ "$(tr '\n' ' ' < v.txt)" = "memcpy,memmove memcpy,memmove-backward memcpy,memmove-forward " ] ||
	fail "--routine memcpy,memm: $(cat v.txt)"
if [ -n "$(ls /sys/bus/pci/devices 2>/dev/null)" ]; then
	comp monitor --device '' > v.txt
	[ "$(cat v.txt)" = "$(ls /sys/bus/pci/devices | sort)" ] || fail "--device: $(cat v.txt)"
fi
mkdir -p pol && touch pol/host.yaml pol/notes.txt
comp policy check pol/ > v.txt
[ "$(cat v.txt)" = pol/host.yaml ] || fail "policy check pol/: $(cat v.txt)"
comp monitor --pid '' > v.txt
grep -qx "$$" v.txt || fail "--pid does not offer this shell's pid $$"
