#!/usr/bin/env bash
# Runs the C reader under AddressSanitizer (+UBSan) and Valgrind on good and bad model files;
# fails on any memory error. Usage: memcheck.sh GOOD.onnx [GOOD2.onnx ...]
set -euo pipefail
cd "$(dirname "$0")"
make -s BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" all
make -s all
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bad=()
head -c 3000 /dev/urandom > "$work/random.onnx"; bad+=("$work/random.onnx")
for good in "$@"; do
  name=$(basename "$good" .onnx)
  cp "$good" "$work/$name.onnx"; cp "${good%.onnx}.h5" "$work/$name.h5"
  head -c $(( $(stat -c %s "$good") / 2 )) "$good" > "$work/${name}_cut.onnx"; bad+=("$work/${name}_cut.onnx")
  mkdir -p "$work/noh5"; cp "$good" "$work/noh5/$name.onnx"; bad+=("$work/noh5/$name.onnx")
done
# The same graphs pointing at a weight file that is now too short.
for good in "$@"; do
  name=$(basename "$good" .onnx)
  mkdir -p "$work/short"; cp "$good" "$work/short/$name.onnx"; head -c 700 "${good%.onnx}.h5" > "$work/short/$name.h5"
  bad+=("$work/short/$name.onnx")
done
status=0
for file in "$@" "${bad[@]}"; do
  expected=0; case "$file" in "$work"/*) expected=1 ;; esac
  for runner in "build-asan/synapse-inspect-c" "valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q build/synapse-inspect-c"; do
    set +e
    ASAN_OPTIONS=detect_leaks=1 $runner "$file" > /dev/null 2> "$work/stderr"
    code=$?
    set -e
    if [ "$code" -ne "$expected" ]; then
      echo "FAIL: $runner $file exited $code (expected $expected):"; cat "$work/stderr"; status=1
    fi
  done
done
[ "$status" -eq 0 ] && echo "memcheck: $(( ($# + ${#bad[@]}) * 2 )) runs clean under AddressSanitizer and Valgrind"
exit $status
