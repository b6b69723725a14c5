#!/bin/sh
# cli_test.sh: behaviour tests of the `valori` command (ctest runs one case per test, cli_*).
#   sh tests/cli/cli_test.sh CASE VALORI_BINARY WORK_DIR [SOURCE_DIR]
# Each case runs the real binary and checks its exit status and what it printed; WORK_DIR is
# emptied first. Exit 0 = pass; a failure prints what was expected and what came out.
set -u
case_name=$1 bin=$2 work=$3 src=${4:-}
rm -rf "$work" && mkdir -p "$work" || exit 1
out=$work/out.txt
fails=0

fail() { echo "FAIL ($case_name): $*"; fails=$((fails + 1)); }
# run STATUS CMD ARGS...: runs CMD with stdout+stderr in $out and checks its exit status.
run() {
  want=$1; shift
  "$@" >"$out" 2>&1
  got=$?
  if [ "$got" != "$want" ]; then fail "'$*' exited $got, expected $want; it printed:"; sed 's/^/    /' "$out"; fi
}
has() { grep -qF -- "$1" "$out" || { fail "output lacks '$1'; it printed:"; sed 's/^/    /' "$out"; }; }
lacks() { ! grep -qF -- "$1" "$out" || { fail "output should not contain '$1'; it printed:"; sed 's/^/    /' "$out"; }; }
# the subcommands, as `valori --help` lists them (so a new subcommand is covered without editing this file)
commands() { "$bin" --help | sed -n 's/^  valori \([a-z][a-z-]*\) .*/\1/p; s/^  valori \([a-z][a-z-]*\)$/\1/p' | sort -u; }

case $case_name in
  help)
    run 0 "$bin" --help; has "usage:"; has "exit codes:"
    for c in demo inspect verify replay import search; do has "valori $c "; done
    run 0 "$bin" -h; has "usage:"
    run 2 "$bin"; has "usage:"                      # no command: usage on stderr, usage error
    run 0 "$bin" --version; has "valori "
    run 2 "$bin" frobnicate; has "unknown command 'frobnicate'"
    run 2 "$bin" --frobnicate; has "unknown option '--frobnicate'"
    run 0 "$bin" help replay; has "usage: valori replay"
    run 2 "$bin" help frobnicate; has "unknown command 'frobnicate'"
    ;;
  help_every_command) # --help and -h for every subcommand, before it parses or touches anything
    n=0
    for c in $(commands); do
      n=$((n + 1))
      run 0 "$bin" "$c" --help; has "usage: valori $c"; has "-h, --help"; lacks "error:"
      run 0 "$bin" "$c" -h; has "usage: valori $c"
      run 0 "$bin" "$c" "$work/does-not-exist" --bogus --help; has "usage: valori $c"
      [ ! -e "$work/does-not-exist" ] || fail "'valori $c ... --help' created $work/does-not-exist"
    done
    [ "$n" -ge 4 ] || fail "valori --help lists $n commands, expected at least demo, inspect, verify, replay"
    ;;
  unknown_option) # every subcommand that declares its options refuses others with exit 2
    for c in $(commands); do
      run 2 "$bin" "$c" --frobnicate; has "unknown option '--frobnicate'"; has "valori $c --help"
    done
    run 2 "$bin" replay "$work" --to; has "option --to needs a value"
    run 2 "$bin" replay "$work" --to=abc; has "bad height 'abc'"
    run 2 "$bin" demo --dir; has "option --dir needs a value"
    ;;
  missing_store) # a missing directory is not "no record, node or edge with that id"
    for c in inspect verify replay; do
      run 3 "$bin" "$c" "$work/nothing-here"
      has "no store at $work/nothing-here: directory does not exist"; lacks "no record, node or edge"
    done
    : >"$work/a-file"
    for c in inspect verify replay; do
      run 3 "$bin" "$c" "$work/a-file"; has "no store at $work/a-file: not a directory"
    done
    mkdir "$work/empty"
    for c in verify replay; do
      run 3 "$bin" "$c" "$work/empty"; has "no store at $work/empty: the directory holds no store files"
      lacks "no record, node or edge"
    done
    ;;
  demo_bad_options)
    run 2 "$bin" demo --n 0; has "--n must be a whole number from 1 to 60000 (got '0')"
    run 2 "$bin" demo --n 60001; has "--n must be a whole number from 1 to 60000"
    run 2 "$bin" demo --queries=abc; has "--queries must be a whole number from 1 to 10000 (got 'abc')"
    run 2 "$bin" demo --ef -3; has "--ef must be a whole number"
    run 2 "$bin" demo "$work/store"; has "unexpected argument '$work/store'"
    run 2 "$bin" demo --dir ""; has "non-empty path"
    [ ! -e "$work/store" ] || fail "a refused demo created $work/store"
    ;;
  demo_bad_data) # data set problems stop the demo before it creates a store
    run 3 "$bin" demo --dir "$work/store" --data "$work/no-data" --n 10 --queries 2
    has "cannot open $work/no-data/t10k-images-idx3-ubyte.gz"; has "dataset-fashion-mnist"
    mkdir "$work/bad-data"
    printf 'this is not gzip nor idx' | gzip >"$work/bad-data/t10k-images-idx3-ubyte.gz"
    run 3 "$bin" demo --dir "$work/store" --data "$work/bad-data" --n 10 --queries 2
    has "not an idx file of the expected kind"
    [ ! -e "$work/store" ] || fail "a demo without usable data created $work/store"
    : >"$work/a-file"
    run 3 "$bin" demo --dir "$work/a-file" --n 10 --queries 2; has "exists and is not a directory"
    ;;
  demo_wrong_store) # a store of another configuration (the committed v1 fixture: not 784-d)
    [ -n "$src" ] || { echo "demo_wrong_store needs SOURCE_DIR"; exit 1; }
    cp -r "$src/tests/fixtures/v1-store" "$work/store" && chmod -R u+w "$work/store"
    run 3 "$bin" demo --dir "$work/store" --n 10 --queries 2; has "holds a store with another configuration"
    run 0 "$bin" verify "$work/store"                # and the demo left it as it was
    ;;
  demo_small) # a real run on Fashion-MNIST (Debian's dataset-fashion-mnist), then a reopen
    run 0 "$bin" demo --dir "$work/store" --n 1000 --queries 20
    has "HNSW recall@10 vs exact:"; has "state root at height"; has "only Dresses"
    root1=$(sed -n 's/.*state root at height \([0-9]*\): \([0-9a-f]*\).*/\1 \2/p' "$out")
    run 0 "$bin" demo --dir "$work/store" --n 1000 --queries 20
    has "1000 records"; has "--n applies to a new store only"
    root2=$(sed -n 's/.*state root at height \([0-9]*\): \([0-9a-f]*\).*/\1 \2/p' "$out")
    [ -n "$root1" ] && [ "$root1" = "$root2" ] || fail "reopened root '$root2' differs from the first run's '$root1'"
    run 0 "$bin" verify "$work/store"; has "ok: $work/store"
    ;;
  inspect_traversal) # a store with an int8 traversal copy of [0, 255] (written by cli_trav_store,
    # $VALORI_TRAV_STORE): inspect names the word, shift, centre and range; verify accepts the store
    [ -n "${VALORI_TRAV_STORE:-}" ] || { echo "inspect_traversal needs VALORI_TRAV_STORE"; exit 1; }
    run 0 "$VALORI_TRAV_STORE" "$work/store"
    run 0 "$bin" inspect "$work/store"
    has "config: dim 8, metric l2, hnsw M 16"
    has "traversal: int8 copy, word 0x00801001, shift 16, centre 128 (codes -128..127 = components 0..255)"
    run 0 "$bin" verify "$work/store"
    if [ -n "$src" ]; then # a store without the option has no traversal line
      run 0 "$bin" inspect "$src/tests/fixtures/v1-store"; has "config: dim"; lacks "traversal:"
    fi
    ;;
  *) echo "cli_test.sh: unknown case '$case_name'"; exit 2 ;;
esac
[ "$fails" = 0 ] && echo "ok ($case_name)"
[ "$fails" = 0 ]
