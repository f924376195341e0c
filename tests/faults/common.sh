# Sourced by every fault script: the CLI under test ($1, made absolute), the shared data, a temporary folder
# removed on exit, and what more than one script needs.
set -euo pipefail
cli="$(realpath "$1")"
data="${SQUEEZENET_DATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared/data}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
weights="$data/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net"

# small_hymenoptera DEST COUNT: train/ and val/ of ants and bees, the first COUNT images of each.
small_hymenoptera() {
  local split cls files
  for split in train val; do
    for cls in ants bees; do
      mkdir -p "$1/$split/$cls"
      mapfile -t files < <(find "$data/hymenoptera_data/$split/$cls" -name '*.jpg' | sort)
      cp "${files[@]:0:$2}" "$1/$split/$cls/"
    done
  done
}

# temporaries_in DIR: the files under DIR named as the atomic writer names its temporaries (.NAME.tmp-PID-XXXXXX).
temporaries_in() { find "$1" -regextype posix-extended -regex '.*/\.[^/]+\.tmp-[0-9]+-[A-Za-z0-9]{6}'; }
