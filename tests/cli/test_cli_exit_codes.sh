#!/usr/bin/env bash
# The installed-style `clheads` binary: help, exit statuses and messages, and a
# short synthetic run followed by `inspect` of its checkpoint.
# usage: test_cli_exit_codes.sh CLHEADS_BINARY WORK_DIR
set -u
bin=$1
work=$2
# A fresh directory each time: `run --out` refuses one that holds an earlier run.
rm -rf "$work/run"
mkdir -p "$work"
fails=0
expect() { # expect STATUS PATTERN -- command...
  local want=$1 pattern=$2
  shift 3
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -ne "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL: $* -> status $status (want $want), output lacks '$pattern':"
    echo "$out" | head -5
    fails=$((fails + 1))
  fi
}
expect 0 "usage: clheads <command>" -- "$bin" --help
expect 2 "missing command" -- "$bin"
expect 2 "unknown command 'fly'" -- "$bin" fly
expect 2 "unknown option '--bogus'" -- "$bin" run --bogus
expect 2 "missing --paradigm" -- "$bin" run --dataset synthetic
expect 2 "--lr expects a number" -- "$bin" run --paradigm til --lr fast
expect 2 "--batch-size expects an integer" -- "$bin" run --paradigm til --batch-size 0
expect 0 "--freeze-backbone" -- "$bin" run --help
expect 0 "--features FILE" -- "$bin" predict --help
expect 1 "cannot open data file" -- "$bin" run --paradigm til --data "$work/none.bin" --quiet
expect 0 "TIL: average accuracy" -- "$bin" run --paradigm til --dataset synthetic --epochs 1 --quiet --out "$work/run"
expect 0 "paradigm: TIL" -- "$bin" inspect "$work/run/checkpoint.safetensors"
expect 0 "backbone.0.weight" -- "$bin" inspect "$work/run/checkpoint.safetensors"
expect 1 "--paradigm in the checkpoint is TIL" -- "$bin" run --resume "$work/run" --paradigm cil
echo "test_cli_exit_codes: $fails failed"
[ "$fails" -eq 0 ]
