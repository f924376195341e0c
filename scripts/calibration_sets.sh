# Sourced by scripts/accuracy_int8.sh: `calibration_folder SET OUT` prints a folder of int8 calibration images,
# building it under OUT from links (no image is copied). Needs DATA (the shared data folder) set.
#   hymenoptera                the ants and bees of hymenoptera_data/train
#   debian-photos              natural photographs that Debian packages install (python3-skimage's data images,
#                              opencv-doc's sample images; BSD-3-Clause, and Apache-2.0 + BSD-3-Clause, as each package's
#                              /usr/share/doc/*/copyright); installed here with apt-get when missing
#   debian-photos+hymenoptera  the photographs and about as many ants and bees (every 6th image of train), in two
#                              class folders; --count 80 takes them all
#   sample-tune-half           diagnostic only: the even positions of the sorted imagenet-sample-1000, the images
#                              the issue's check evaluates on (evaluate on the odd positions alone)

skimage_data=/usr/lib/python3/dist-packages/skimage/data
opencv_data=/usr/share/doc/opencv-doc/examples
# Photographs only: the packages' drawings, charts, text pages, textures, logos, renders and near-duplicate
# stereo or motion pairs are left out.
debian_photos=(
  "$skimage_data"/{astronaut,camera,chelsea,coffee,coins,motorcycle_left}.png "$skimage_data/rocket.jpg"
  "$opencv_data"/data/{aero1,aloeL,apple,baboon,board,building,butterfly,ela_original,fruits,home,leuvenA,messi5}.jpg
  "$opencv_data"/data/{orange,squirrel_cls,stuff}.jpg "$opencv_data"/data/{basketball1,box_in_scene,chicky_512}.png
  "$opencv_data"/data/{graf1,rubberwhale1,smarties}.png "$opencv_data/alphamat/input_images/plant.jpg"
  "$opencv_data/reg/home.png" "$opencv_data"/hfs/data/00{0,1,2}.jpg "$opencv_data"/text/scenetext0{1,2,3,4,5,6}.jpg
)

# Links every file named after $1 into folder $2, each under a name unique to its source path.
link_images() {
  local folder="$1" f
  shift
  mkdir -p "$folder"
  for f in "$@"; do ln -sf "$f" "$folder/$(echo "${f#/}" | tr / _)"; done
}

debian_photos_ready() {
  if ! dpkg -s python3-skimage opencv-doc >/dev/null 2>&1; then
    echo "installing the Debian packages of the calibration photographs: python3-skimage opencv-doc" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-skimage opencv-doc >&2
  fi
  local f
  for f in "${debian_photos[@]}"; do
    [ -f "$f" ] || { echo "$f: missing (a newer python3-skimage or opencv-doc moved it?)" >&2; return 1; }
  done
}

calibration_folder() {
  local set="$1" folder="$2/calibration-$1"
  rm -rf "$folder"
  case "$set" in
    hymenoptera) echo "$DATA/hymenoptera_data/train"; return ;;
    debian-photos)
      debian_photos_ready
      link_images "$folder/photos" "${debian_photos[@]}" ;;
    debian-photos+hymenoptera)
      debian_photos_ready
      link_images "$folder/photos" "${debian_photos[@]}"
      local train=("$DATA"/hymenoptera_data/train/*/*) sixth=() k
      for ((k = 0; k < ${#train[@]}; k += 6)); do sixth+=("${train[k]}"); done
      link_images "$folder/hymenoptera" "${sixth[@]}" ;;
    sample-tune-half)
      mapfile -t sample < <(LC_ALL=C ls "$DATA/imagenet-sample-1000" | grep -i '\.jpeg$')
      local k tune=()
      for ((k = 0; k < ${#sample[@]}; k += 2)); do tune+=("$DATA/imagenet-sample-1000/${sample[k]}"); done
      mkdir -p "$folder"
      for k in "${tune[@]}"; do ln -sf "$k" "$folder/"; done ;;
    *) echo "unknown calibration set $set (hymenoptera, debian-photos, debian-photos+hymenoptera, sample-tune-half)" >&2
       return 1 ;;
  esac
  echo "$folder"
}
