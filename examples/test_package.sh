#!/usr/bin/env bash
# test_package.sh [BUILD] [PYTHON]: npipe as an outside project meets it. Installs BUILD (default
# build/posix) into a temporary prefix, builds examples/ against that prefix twice, once with
# find_package(npipe) (CMakeLists.txt) and once with pkg-config (Makefile), and runs both sets
# with the real CPython (run_examples.py, under PYTHON, default /usr/bin/python3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build/posix}
python=${2:-/usr/bin/python3}
work=$root/build/package-test
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

echo "== install $build into a temporary prefix"
cmake --install "$root/$build" --prefix "$prefix" > "$work/install.log"
test -f "$prefix/lib/cmake/npipe/npipeConfig.cmake" || { echo "no npipeConfig.cmake installed" >&2; exit 1; }
test -f "$prefix/lib/pkgconfig/npipe.pc" || { echo "no npipe.pc installed" >&2; exit 1; }

echo "== examples with find_package(npipe)"
cmake -S "$root/examples" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$work/cmake-configure.log"
cmake --build "$work/cmake" -j "${JOBS:-2}" > "$work/cmake-build.log" ||
  { cat "$work/cmake-build.log" >&2; exit 1; }
"$python" "$root/examples/run_examples.py" "$work/cmake"

echo "== examples with pkg-config"
mkdir -p "$work/pkg-config"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" make -s -C "$root/examples" OUT="$work/pkg-config"
"$python" "$root/examples/run_examples.py" "$work/pkg-config"
echo "== Debian package (cpack)"
rm -f "$root/$build"/package/npipe_*.deb
(cd "$root/$build" && cpack -G DEB > "$work/cpack.log") || { cat "$work/cpack.log" >&2; exit 1; }
deb=$(ls "$root/$build"/package/npipe_*.deb)
dpkg-deb --info "$deb" | grep -E "Package|Version|Depends" | sed 's/^/  /'
dpkg-deb --contents "$deb" > "$work/deb-contents.txt"
for f in usr/include/npipe/npipe.hpp usr/lib/libnpipe.a usr/lib/cmake/npipe/npipeConfig.cmake \
  usr/lib/pkgconfig/npipe.pc usr/bin/npipe usr/bin/npipe-agent; do
  grep -q " ./$f\$" "$work/deb-contents.txt" || { echo "the package lacks $f" >&2; exit 1; }
done
echo "package: installed, found by find_package and pkg-config, examples passed, $(basename "$deb")"
