#!/usr/bin/env bash
# Runs a Windows program under Wine and passes on what it printed and its exit code:
#   usage: ci/wine/run.sh WINE PROGRAM.exe ARGS...
# Once in a CI run (879 s into it, at `tomskype.exe interfaces`), Wine printed only
# "wine client error:0: recvmsg: Connection reset by peer": the program lost its connection to
# the wineserver, so it never ran. That message is Wine's own, never the program's, so a run that
# prints it is run once more, and the first attempt is noted in $TOMSKYPE_WINE_RETRIES (a file),
# which ci/windows_wine.sh prints at its end. Anything else, good or bad, counts as it came.
# What the program wrote is held until it ends, so a retried run's output appears only once.
set -uo pipefail
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
for attempt in 1 2; do
  "$@" >"$out" 2>"$err"
  rc=$?
  grep -q '^wine client error' "$err" || break
  {
    echo "attempt $attempt of \`${*:2}\` lost the wineserver (exit $rc):"
    head -c 500 "$err" | sed 's/^/  /'
  } >>"${TOMSKYPE_WINE_RETRIES:-/dev/null}"
done
cat "$out"
cat "$err" >&2
exit "$rc"
