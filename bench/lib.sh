# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What the benchmarks share; sourced, in the test guest.

# bench_args USAGE NAME... -- ARGS...: each --NAME VALUE of ARGS sets the variable NAME (given
# its default before); anything else prints "usage: USAGE" and exits 2.
bench_args() {
	_usage=$1
	shift
	_known=
	while [ "$1" != -- ]; do
		_known="$_known $1"
		shift
	done
	shift
	while [ $# -ge 2 ]; do
		_name=${1#--}
		case " $_known " in
		*" $_name "*) [ "--$_name" = "$1" ] || break ;;
		*) break ;;
		esac
		eval "$_name=\$2"
		shift 2
	done
	[ $# -eq 0 ] || { echo "usage: $_usage" >&2; exit 2; }
}
