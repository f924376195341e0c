# The Deep Compression stages at each step of a gradual pruning, every file evaluated (sourced by
# scripts/compress_tv11.sh and scripts/compress_hymenoptera.sh). The caller sets:
#   cli, out, series        the CLI, the output folder (stages.tsv is appended to), the series name
#   weights                 the dense model
#   eval_args               `eval` arguments that select the evaluation images (never the tuning ones)
#   tune_args               `compress` arguments that select the tuning images (--tune DIR ...)
#   steps                   the --density arguments of the gradual pruning, the last one the target
#   bits                    the --bits argument of the weight sharing
#   codebook_args           more options of every weight sharing (--entropy-weight ...); empty unless set
#   prune_args, share_args  the masked fine-tuning's and the centroid tuning's epochs and rates
# At every step: pruned from the dense model without retraining (pruning only), the same shared (+ sharing), the
# step's masked fine-tuned weights shared (+ retraining; at the last step centroid tuning too), and that file's
# bytes as stored (+ coding). A step's file that exists already is reused, so an interrupted run resumes.
# stages.tsv: series, stage, step, bytes as stored, top-1, bytes without entropy coding (compress_plain_size.py).

# The callers' common start (the caller's $1 is the build folder).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build}"
cli="$build/squeezenet"
data="${SQUEEZENET_DATA:-../shared/data}"
out="${OUT:-$build/compress}"
mkdir -p "$out"
codebook_args=()

evaluate() {  # stage, step, file
  local bytes top1 plain
  bytes=$(du -b "$3" | cut -f1)
  [[ "$3" != *.param ]] || bytes=$((bytes + $(du -b "${3%.param}.bin" | cut -f1)))  # ncnn: .param + .bin
  top1=$("$cli" eval -q -w "$3" "${eval_args[@]}" | tail -1 | sed -E 's/.*"top1":([0-9.]+).*/\1/')
  plain=$(/usr/bin/python3 scripts/compress_plain_size.py "$cli" "$3")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$series" "$1" "$2" "$bytes" "$top1" "$plain" >> "$out/stages.tsv"
  printf '| %s | %s | %s | %s | %s | %.1f %% |\n' "$series" "$1" "$2" "$bytes" "$plain" "$(awk "BEGIN{print $top1*100}")"
}

run_stages() {
  local dir="$out/$series" from="$weights" i=0 d
  mkdir -p "$dir"
  echo "| weights | stage | step | bytes | bytes without coding | top-1 |"
  echo "|---|---|---:|---:|---:|---:|"
  evaluate dense 0 "$weights"
  for d in "${steps[@]}"; do
    i=$((i + 1))
    "$cli" compress -w "$weights" --out "$dir/pruned-$i.sqz" --density "$d" > /dev/null
    evaluate pruning "$i" "$dir/pruned-$i.sqz"
    "$cli" compress -w "$weights" --out "$dir/pruned-shared-$i.sqz" --density "$d" --bits "$bits" \
      "${codebook_args[@]}" --fp16 > /dev/null
    evaluate sharing "$i" "$dir/pruned-shared-$i.sqz"
    # Each step starts from the one before, which is also its teacher unless tune_args names a --teacher, so that
    # no step has to recover from a large cut on a few hundred images.
    [ -f "$dir/retrained-$i.sqz" ] || "$cli" compress -w "$from" --out "$dir/retrained-$i.sqz" --density "$d" \
      "${tune_args[@]}" "${prune_args[@]}" --epochs 0 >&2
    from="$dir/retrained-$i.sqz"
    "$cli" compress -w "$from" --out "$dir/retrained-shared-$i.sqz" --bits "$bits" "${codebook_args[@]}" --fp16 \
      > /dev/null
    evaluate retraining "$i" "$dir/retrained-shared-$i.sqz"
  done
  [ -f "$dir/final.sqz" ] || "$cli" compress -w "$from" --out "$dir/final.sqz" --bits "$bits" \
    "${codebook_args[@]}" --fp16 "${tune_args[@]}" --prune-epochs 0 "${share_args[@]}" >&2
  evaluate retraining-centroids "$i" "$dir/final.sqz"
}
