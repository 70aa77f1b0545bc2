#!/usr/bin/env bash
# Build llama.cpp's own `llama-server` from the llama-cpp-python source distribution on PyPI (it
# carries llama.cpp's whole source tree), with this CPU's native flags, and print its path.
# The binary is cached under artifacts/llama-server/; a second run only prints the path.
# Never part of `make test`: the build takes minutes of both cores.
#
#   bash loadtest/anchors/llama_server.sh          # -> artifacts/llama-server/bin/llama-server
#   semgate bench backend --llama-server "$(bash loadtest/anchors/llama_server.sh)" --json
set -euo pipefail

VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/artifacts/llama-server"
BIN="$OUT/bin/llama-server"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3

if [ -x "$BIN" ] && [ "$(cat "$OUT/VERSION" 2>/dev/null)" = "$VERSION" ]; then
    echo "$BIN"
    exit 0
fi
mkdir -p "$OUT/src" "$OUT/bin"
if ! command -v cmake >/dev/null; then
    echo "llama_server.sh: cmake not found; installing it from PyPI" >&2
    "$PYTHON" -m pip install --quiet "cmake>=3.21"
fi
SDIST="$OUT/src/llama_cpp_python-$VERSION.tar.gz"
if [ ! -f "$SDIST" ]; then
    echo "llama_server.sh: downloading llama-cpp-python $VERSION (source) from PyPI" >&2
    "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$OUT/src"
fi
rm -rf "$OUT/src/llama_cpp_python-$VERSION"
tar -xzf "$SDIST" -C "$OUT/src"
LLAMA="$OUT/src/llama_cpp_python-$VERSION/vendor/llama.cpp"
echo "llama_server.sh: building llama-server (native CPU flags, $(nproc) jobs; several minutes)" >&2
cmake -S "$LLAMA" -B "$OUT/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$OUT/build" --target llama-server -j "$(nproc)" >&2
cp "$OUT/build/bin/llama-server" "$BIN"
echo "$VERSION" > "$OUT/VERSION"
echo "$BIN"
