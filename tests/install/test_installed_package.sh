#!/usr/bin/env bash
# Installs into a temporary prefix, then builds the examples out of tree against the installed package the two
# ways users do (find_package, shared and static; pkg-config, shared and --static) and runs each on a real image.
#   test_installed_package.sh BUILD_DIR SOURCE_DIR DATA_DIR WORK_DIR C_COMPILER CXX_COMPILER
set -euo pipefail
build=$1 source=$2 data=$3 work=$4 cc=$5 cxx=$6
weights=$data/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net
image=$data/imagenet-sample-1000/n01531178_goldfinch.JPEG
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

expect_goldfinch() {  # PROGRAM: prints what it printed; fails unless the top class is goldfinch
  local out
  out=$("$1" "$weights" "$image")
  echo "$1: $(head -1 <<<"$out")"
  [[ "$(head -1 <<<"$out")" =~ (^|%  )goldfinch$ ]] || { echo "FAILED: $1 printed: $out"; exit 1; }
}

cmake --install "$build" --prefix "$prefix" >/dev/null
echo "installed: $(du -sh "$prefix" | cut -f1) in $(find "$prefix" -type f | wc -l) files"
version=$("$prefix/bin/squeezenet" --version)
echo "installed command: $version"

configure() {  # DIR [CMAKE ARGS]
  local dir=$1
  shift
  cmake -S "$source/examples" -B "$work/$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" "$@" >"$work/$dir.log"
}
configure find_package_shared
cmake --build "$work/find_package_shared" -j2 >>"$work/find_package_shared.log"
expect_goldfinch "$work/find_package_shared/classify_image"
expect_goldfinch "$work/find_package_shared/classify_image_c"
# ldd's output is taken whole: grep -q stopping early would fail the pipe under pipefail.
libraries=$(ldd "$work/find_package_shared/classify_image_c")
grep -q "$prefix/lib/libsqueezenet.so" <<<"$libraries" ||
  { echo "FAILED: classify_image_c does not use the installed shared library"; exit 1; }

configure find_package_static -DSQUEEZENET_USE_STATIC_LIBS=ON
cmake --build "$work/find_package_static" --target classify_image_c >>"$work/find_package_static.log"
expect_goldfinch "$work/find_package_static/classify_image_c"
libraries=$(ldd "$work/find_package_static/classify_image_c")
! grep -q libsqueezenet <<<"$libraries" ||
  { echo "FAILED: the static build links the shared library"; exit 1; }

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion squeezenet)" = "${version##* }" ] ||
  { echo "FAILED: squeezenet.pc says $(pkg-config --modversion squeezenet), the command $version"; exit 1; }
libdir=$(pkg-config --variable=libdir squeezenet)
mkdir -p "$work/pkg_config"
# shellcheck disable=SC2046  # pkg-config's output is a list of words
"$cxx" -std=c++20 -O2 "$source/examples/classify_image.cpp" -o "$work/pkg_config/classify_image" \
  $(pkg-config --cflags --libs squeezenet) -Wl,-rpath,"$libdir"
expect_goldfinch "$work/pkg_config/classify_image"
# shellcheck disable=SC2046
"$cc" -std=c99 -O2 "$source/examples/classify_image.c" -o "$work/pkg_config/classify_image_c" \
  $(pkg-config --cflags --libs squeezenet) -Wl,-rpath,"$libdir"
expect_goldfinch "$work/pkg_config/classify_image_c"
# Static through pkg-config: --static adds the private dependencies; -l: picks the archive over the .so.
# shellcheck disable=SC2046
"$cc" -std=c99 -O2 "$source/examples/classify_image.c" -o "$work/pkg_config/classify_image_c_static" \
  $(pkg-config --static --cflags --libs squeezenet | sed 's/-lsqueezenet/-l:libsqueezenet.a/')
expect_goldfinch "$work/pkg_config/classify_image_c_static"
