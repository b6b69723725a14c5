#!/usr/bin/env bash
# apt_test.sh: scripts/apt.sh (used by scripts/setup.sh) against real locks on files of its own:
# apt_run waits while another process holds a watched lock and then runs the command, gives up
# after VALORI_APT_WAIT seconds, retries a command that failed on a lock taken in between, passes
# other failures through with the end of their output, and apt_progress turns apt-get output into
# progress lines. The real dpkg and apt locks are never touched.
#   bash tests/scripts/apt_test.sh SOURCE_DIR WORK_DIR
set -u
src=$1 work=$2
rm -rf "$work" && mkdir -p "$work" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v lslocks >/dev/null && command -v flock >/dev/null || { echo "FAIL: lslocks and flock (util-linux) are needed"; exit 1; }
export APT_LOCKS="$work/lock-frontend $work/lock"
: >"$work/lock-frontend"
: >"$work/lock"
# shellcheck source=scripts/apt.sh
. "$src/scripts/apt.sh"

echo "== no lock held: runs at once"
t0=$SECONDS
apt_run "fake apt" sh -c 'echo hello' >"$work/out1" 2>&1 || fail "apt_run failed without a lock: $(cat "$work/out1")"
[ $((SECONDS - t0)) -le 2 ] || fail "apt_run waited without a lock"

echo "== a lock held for 4 s (flock, like another apt): waits, says so, then runs"
flock "$work/lock" sleep 4 &
holder=$!
sleep 0.5
[ -n "$(apt_lock_holder)" ] || fail "apt_lock_holder does not see the held lock"
t0=$SECONDS
APT_WAIT=30 apt_run "fake apt" sh -c 'echo ran >"$0"' "$work/ran" >"$work/out2" 2>&1 || fail "apt_run failed after the lock was released"
waited=$((SECONDS - t0))
[ "$waited" -ge 2 ] || fail "apt_run did not wait for the lock (waited $waited s)"
grep -q "waiting for another package manager to finish: pid $holder (flock) holds $work/lock" "$work/out2" || fail "no waiting message naming the holder: $(cat "$work/out2")"
[ -f "$work/ran" ] || fail "the command did not run after the wait"
wait "$holder" 2>/dev/null

echo "== bounded: gives up after APT_WAIT seconds"
flock "$work/lock-frontend" sleep 8 &
holder=$!
sleep 0.5
t0=$SECONDS
APT_WAIT=2 apt_run "fake apt" sh -c 'echo ran >"$0"' "$work/ran2" >"$work/out3" 2>&1 && fail "apt_run succeeded while the lock was held"
[ $((SECONDS - t0)) -le 6 ] || fail "apt_run waited past its bound"
grep -q "gave up after waiting 2 s for the package lock: pid $holder" "$work/out3" || fail "no give-up message: $(cat "$work/out3")"
[ ! -f "$work/ran2" ] || fail "the command ran although the lock was never free"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

echo "== a lock taken in between: the command's lock error is retried"
cat >"$work/flaky" <<'EOS'
#!/bin/sh
if [ ! -f "$1" ]; then : >"$1"; echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1 (apt-get)"; exit 100; fi
echo "second try"
EOS
chmod +x "$work/flaky"
APT_WAIT=30 apt_run "fake apt" "$work/flaky" "$work/tried" >"$work/out4" 2>&1 || fail "the retried command failed: $(cat "$work/out4")"
grep -q "took the lock meanwhile" "$work/out4" || fail "no retry message: $(cat "$work/out4")"

echo "== other failures: status and the end of the output"
apt_run "fake apt" sh -c 'echo "E: Unable to locate package nosuchpackage"; exit 100' >"$work/out5" 2>&1 && fail "a failing command passed"
grep -q "fake apt failed; the end of its output:" "$work/out5" && grep -q "Unable to locate package nosuchpackage" "$work/out5" ||
  fail "the failure's output was not shown: $(cat "$work/out5")"

echo "== apt_progress"
{
  echo "Reading package lists..."
  echo "0 upgraded, 20 newly installed, 0 to remove and 3 not upgraded."
  echo "Need to get 1,234 kB of archives."
  for i in $(seq 1 20); do echo "Get:$i http://deb.debian.org/debian bookworm/main amd64 pkg$i amd64 1.0 [10 kB]"; done
  for i in $(seq 1 20); do echo "Unpacking pkg$i (1.0) ..."; done
  for i in $(seq 1 20); do echo "Setting up pkg$i (1.0) ..."; done
} | apt_progress "apt-get install" >"$work/out6"
cat "$work/out6"
grep -q "apt-get install: 20 packages to install" "$work/out6" || fail "no package count"
grep -q "downloaded 20 of 20 packages (100%)" "$work/out6" || fail "no download progress"
grep -q "set up 10 of 20 packages (50%) (pkg10)" "$work/out6" || fail "no set-up progress at 50%"
n=$(grep -c "set up" "$work/out6")
[ "$n" -ge 5 ] && [ "$n" -le 11 ] || fail "expected about one set-up line per tenth, got $n"

[ "$fails" = 0 ] && echo "apt test: ok"
[ "$fails" = 0 ]
