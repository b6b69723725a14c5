# apt.sh: apt-get for scripts/setup.sh (sourced, bash). Waits, bounded and saying so, while another
# package manager holds apt's or dpkg's lock instead of failing at once, and turns apt's quiet
# output into a few progress lines (a whole install of the toolchain takes about 100 s).
#   apt_run LABEL COMMAND...   runs COMMAND (an apt-get invocation): first waits while a lock in
#                              APT_LOCKS is held; if COMMAND still fails on a lock (it was taken in
#                              between), waits again and retries; other failures print the end of
#                              apt's output. Gives up after VALORI_APT_WAIT seconds of waiting.
# Settings: VALORI_APT_WAIT (seconds, default 900); APT_LOCKS (the lock files watched; default the
# four apt and dpkg use; tests/scripts/apt_test.sh points it at its own). Needs lslocks (util-linux).
APT_WAIT=${VALORI_APT_WAIT:-900}
APT_LOCKS=${APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock}
# what apt-get prints when it could not take a lock
APT_LOCK_ERRORS='Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock|is another process using it'

# Prints "pid N (command) holds FILE" for a process holding one of APT_LOCKS, or nothing.
apt_lock_holder() {
  local pid path
  command -v lslocks >/dev/null 2>&1 || return 0
  while read -r pid path; do
    case " $APT_LOCKS " in
      *" $path "*) echo "pid $pid ($(ps -o comm= -p "$pid" 2>/dev/null || echo '?')) holds $path"; return 0 ;;
    esac
  done < <(lslocks -n -o PID,PATH 2>/dev/null)
}

# Filter of apt-get's stdout (-q): prints "setup: LABEL: ..." lines at every tenth of the packages
# downloaded and set up, and the download size.
apt_progress() { # label
  awk -v label="$1" '
    function step(what, k, extra,   p) {
      if (!total) return
      p = int(100 * k / total)
      if (k == total || p >= shown[what] + 10) {
        shown[what] = p - p % 10
        printf "setup: %s: %s %d of %d packages (%d%%)%s\n", label, what, k, total, p, extra
        fflush()
      }
    }
    /^[0-9]+ upgraded, [0-9]+ newly installed/ { total = $1 + $3; printf "setup: %s: %d packages to install\n", label, total; fflush() }
    /^Need to get / { printf "setup: %s: %s\n", label, $0; fflush() }
    /^Get:[0-9]+ / { got++; step("downloaded", got, "") }
    /^Setting up / { set++; step("set up", set, " (" $3 ")") }
  '
}

apt_run() { # label command...
  local - label=$1 t0=$SECONDS said=-1000 holder log
  set -o pipefail # the command's status, not the filter's
  shift
  log=$(mktemp)
  while :; do
    holder=$(apt_lock_holder)
    if [ -n "$holder" ]; then
      if [ $((SECONDS - t0)) -ge "$APT_WAIT" ]; then
        echo "setup: $label: gave up after waiting ${APT_WAIT} s for the package lock: $holder (VALORI_APT_WAIT=SECONDS waits longer)" >&2
        rm -f "$log"
        return 1
      fi
      if [ $((SECONDS - said)) -ge 15 ]; then
        echo "setup: $label: waiting for another package manager to finish: $holder ($((SECONDS - t0)) s so far, at most $APT_WAIT s)"
        said=$SECONDS
      fi
      sleep 2
      continue
    fi
    if "$@" 2>&1 | tee "$log" | apt_progress "$label"; then
      rm -f "$log"
      return 0
    fi
    if grep -qE "$APT_LOCK_ERRORS" "$log" && [ $((SECONDS - t0)) -lt "$APT_WAIT" ]; then
      echo "setup: $label: another package manager took the lock meanwhile; waiting for it"
      said=$SECONDS
      sleep 2
      continue
    fi
    echo "setup: $label failed; the end of its output:" >&2
    tail -n 30 "$log" | sed 's/^/    /' >&2
    rm -f "$log"
    return 1
  done
}
