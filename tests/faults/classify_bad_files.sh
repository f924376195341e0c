#!/usr/bin/env bash
# `classify` over a folder whose files are unreadable, of the wrong kind, or vanish before or while they are read:
# each bad one is reported in one line naming it, every good one is still classified, and the run ends with
# exit status 1 (or 0 when nothing went missing) — never a hang or a crash.
#   tests/faults/classify_bad_files.sh CLI
source "$(dirname "$0")/common.sh"
images="$data/imagenet-sample-1000"
dir="$work/folder"
mkdir -p "$dir"
cp "$images/n01531178_goldfinch.JPEG" "$dir/good1.jpg"
cp "$images/n01440764_tench.JPEG" "$dir/good2.jpg"
mkfifo "$dir/fifo.jpg"                       # opening it for reading would block for ever
mkdir "$dir/folder.jpg"
ln -s "$work/nowhere.jpg" "$dir/dangling.jpg"
cp "$images/n01440764_tench.JPEG" "$dir/gone.jpg"
: >"$dir/empty.jpg"
head -c 3000 "$images/n01531178_goldfinch.JPEG" >"$dir/truncated.jpg"
cp "$images/n01440764_tench.JPEG" "$dir/unreadable.jpg"
chmod 000 "$dir/unreadable.jpg"
files=("$dir"/*.jpg)
rm "$dir/gone.jpg"  # listed, then gone before it is read
# Root reads files whatever their mode: without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH it cannot.
drop=()
if setpriv --bounding-set -dac_override,-dac_read_search true 2>/dev/null; then
  drop=(setpriv --inh-caps -all --bounding-set -dac_override,-dac_read_search)
elif [ "$(id -u)" = 0 ]; then
  echo "note: cannot drop root's file-permission override here; unreadable.jpg will be read"
fi

status=0
timeout 300 "${drop[@]}" "$cli" classify -w "$weights" -k 1 "${files[@]}" >"$work/out" 2>"$work/err" || status=$?
cat "$work/out" "$work/err"
[ "$status" -eq 1 ] || { echo "FAILED: exit status $status, want 1"; exit 1; }
for good in good1 good2; do
  grep -qx "$dir/$good.jpg" "$work/out" || { echo "FAILED: $good.jpg was not classified"; exit 1; }
done
bad=(fifo folder dangling gone empty truncated)
[ ${#drop[@]} -gt 0 ] || [ "$(id -u)" != 0 ] && bad+=(unreadable)
for b in "${bad[@]}"; do
  [ "$(grep -c "^squeezenet: error: $dir/$b.jpg: " "$work/err")" -eq 1 ] ||
    { echo "FAILED: $b.jpg was not reported in one line"; exit 1; }
done
grep -q "error: ${#bad[@]} of ${#files[@]} images failed" "$work/err" || { echo "FAILED: no summary line"; exit 1; }

# Files vanishing while the run reads them: 300 names for one image, deleted from the end while classify works
# from the start. Whatever the timing, every name is either classified or reported, and nothing else happens.
mkdir "$work/race"
for i in $(seq -w 1 300); do ln "$images/n01531178_goldfinch.JPEG" "$work/race/$i.jpg" 2>/dev/null ||
  cp "$images/n01531178_goldfinch.JPEG" "$work/race/$i.jpg"; done
race=("$work/race"/*.jpg)
(sleep 0.3; for ((i = ${#race[@]} - 1; i >= 0; i--)); do rm -f "${race[$i]}"; sleep 0.005; done) &
deleter=$!
status=0
timeout 300 "$cli" classify -w "$weights" -k 1 -t 1 "${race[@]}" >"$work/out" 2>"$work/err" || status=$?
wait "$deleter"
[ "$status" -le 1 ] || { echo "FAILED: exit status $status during deletions"; cat "$work/err"; exit 1; }
classified=$(grep -c '^/' "$work/out" || true)
reported=$(grep -c '^squeezenet: error: /.*\.jpg: ' "$work/err" || true)
[ $((classified + reported)) -eq ${#race[@]} ] ||
  { echo "FAILED: $classified classified + $reported reported != ${#race[@]} files"; exit 1; }
echo "classify_bad_files: every bad file reported once, the good ones classified; under deletion $classified classified, $reported reported"
