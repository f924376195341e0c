#!/usr/bin/env bash
# Writing to a full disk, past the file-size limit or into a read-only folder gives one line naming the file and
# the cause, exit status 1, and leaves no partial file behind.
#   tests/faults/write_errors.sh CLI
# The full disk and the read-only folder are a 64 KiB tmpfs and a read-only tmpfs in a private mount namespace
# (unshare -m), so they work as root, whom permissions do not stop; where namespaces are not allowed those two
# cases are skipped with a message.
source "$(dirname "$0")/common.sh"
image="$data/imagenet-sample-1000/n01531178_goldfinch.JPEG"
small_hymenoptera "$work/data" 1

# expect_one_line_error WHAT CAUSE DIR -- COMMAND...: COMMAND writing into DIR must fail with status 1 and one
# error line, its last on stderr (training's progress lines may come before), that names the cause, and leave
# DIR without partial files.
expect_one_line_error() {
  local what="$1" cause="$2" dir="$3"
  shift 4
  local status=0
  "$@" >/dev/null 2>"$work/err" || status=$?
  local lines
  lines=$(grep -c '^squeezenet: error: ' "$work/err" || true)
  if [ "$status" -ne 1 ] || [ "$lines" -ne 1 ] || ! tail -n 1 "$work/err" | grep -q "^squeezenet: error: .*$cause"; then
    echo "FAILED: $what: exit $status, $lines error lines (want 1, last, naming '$cause'):"
    cat "$work/err"
    exit 1
  fi
  if temporaries_in "$dir" | grep -q .; then
    echo "FAILED: $what: a temporary file was left in $dir"
    exit 1
  fi
  echo "$what: $(tail -n 1 "$work/err")"
}

commands() {  # DIR CAUSE LABEL: every command that writes a file, aimed at DIR
  local dir="$1" cause="$2" label="$3"
  expect_one_line_error "convert, $label" "$cause" "$dir" -- "$cli" convert "$weights" "$dir/w.safetensors"
  expect_one_line_error "classify --cam, $label" "$cause" "$dir" -- "$cli" classify -w "$weights" --cam "$dir/cam.png" "$image"
  expect_one_line_error "train --out, $label" "$cause" "$dir" -- \
    "$cli" train --arch squeezenet1_1 --data "$work/data" --epochs 1 --batch-size 2 --quiet --out "$dir/run"
}

# Past RLIMIT_FSIZE, with SIGXFSZ ignored, write() fails with EFBIG: needs no privilege at all.
mkdir -p "$work/limited"
(ulimit -f 64 && trap '' XFSZ && commands "$work/limited" "File too large" "file-size limit")

if ! unshare -m true 2>/dev/null; then
  echo "skipped: no private mount namespace here (unshare -m), so no full disk or read-only folder to test"
  exit 0
fi
mkdir -p "$work/full" "$work/ro"
export -f expect_one_line_error commands temporaries_in
export cli weights image work
unshare -m bash -euo pipefail -c '
  mount -t tmpfs -o size=64k tmpfs "$work/full"
  mount -t tmpfs -o ro tmpfs "$work/ro"
  commands "$work/full" "No space left on device" "full disk"
  commands "$work/ro" "Read-only file system" "read-only folder"
'
echo "write_errors: every write failure gave one clear line and exit 1"
