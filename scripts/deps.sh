#!/usr/bin/env bash
# Makes sure the system packages the build needs are present, before anything is compiled, and
# installs the missing ones with apt-get (as root, or through passwordless sudo).
#
#   - libclang, as bindgen loads it to generate RocksDB's Rust bindings (librocksdb-sys's build
#     script): a shared library named the way clang-sys looks for it (libclang.so,
#     libclang-<ver>.so, libclang.so.<n>, libclang-<ver>.so.<n>; never libclang-cpp, which has
#     another API), in the directories clang-sys searches (LIBCLANG_PATH alone when set), plus
#     clang's own headers (stddef.h), which bindgen needs to parse RocksDB's C header.
#     Debian package: libclang-dev (pulls libclang1-<ver> and libclang-common-<ver>-dev).
#   - a C and a C++ compiler and make: RocksDB, lz4 and librdkafka are compiled from source.
#     Debian packages: gcc g++ make.
#
# Idempotent: prints nothing and does nothing when all is there. When something is missing and
# cannot be installed (not root and no sudo, no package index, no network), it stops with one
# message that says what to install, and exits 1.
#
#   scripts/deps.sh           check, and install what is missing
#   scripts/deps.sh --check   check only: exit 0 when all is there, 1 (with the list) when not
set -uo pipefail
shopt -s nullglob

CHECK_ONLY=0
[ "${1:-}" = "--check" ] && CHECK_ONLY=1

say() { echo "deps: $*" >&2; }

# The libclang file names clang-sys accepts, as shell globs.
LIBCLANG_NAMES=(libclang.so 'libclang-*.so' 'libclang.so.*' 'libclang-*.so.*')

# Prints the candidate libclang files in directory $1, as clang-sys would list them.
libclang_in_dir() {
    local dir=$1 name f
    [ -d "$dir" ] || return 0
    for name in "${LIBCLANG_NAMES[@]}"; do
        for f in "$dir"/$name; do
            case "$(basename "$f")" in *-cpp.*) continue ;; esac
            echo "$f"
        done
    done
}

# True when the libclang at $1 can be loaded (not a dangling link) and finds clang's headers:
# libclang looks for them in <the directory it was loaded from>/clang/<version>/include.
libclang_usable() {
    local lib=$1 dir inc
    [ -e "$lib" ] || return 1
    for dir in "$(dirname "$lib")" "$(dirname "$(readlink -f "$lib")")"; do
        for inc in "$dir"/clang/*/include/stddef.h; do
            return 0
        done
    done
    return 1
}

# Prints the first usable libclang, searching where clang-sys searches, or nothing.
find_libclang() {
    local dirs=() dir lib prefix
    if [ -n "${LIBCLANG_PATH:-}" ]; then
        # clang-sys searches only LIBCLANG_PATH when it is set: a file, or a directory.
        if [ -f "$LIBCLANG_PATH" ]; then
            libclang_usable "$LIBCLANG_PATH" && echo "$LIBCLANG_PATH"
            return 0
        fi
        dirs=("$LIBCLANG_PATH")
    else
        if prefix=$(llvm-config --prefix 2>/dev/null); then
            dirs+=("$prefix/bin" "$prefix/lib" "$prefix/lib64")
        fi
        local IFS=:
        for dir in ${LD_LIBRARY_PATH:-} ${LIBRARY_PATH:-}; do dirs+=("$dir"); done
        unset IFS
        dirs+=(/usr/local/llvm*/lib* /usr/local/lib*/*/* /usr/local/lib*/* /usr/local/lib*
            /usr/lib*/*/* /usr/lib*/* /usr/lib*)
    fi
    for dir in "${dirs[@]}"; do
        while read -r lib; do
            [ -n "$lib" ] && libclang_usable "$lib" && { echo "$lib"; return 0; }
        done < <(libclang_in_dir "$dir")
    done
    return 0
}

# Lists the Debian packages to install for what is missing.
missing_packages() {
    local missing=()
    [ -n "$(find_libclang)" ] || missing+=(libclang-dev)
    command -v cc >/dev/null 2>&1 || missing+=(gcc)
    command -v c++ >/dev/null 2>&1 || missing+=(g++)
    command -v make >/dev/null 2>&1 || missing+=(make)
    echo "${missing[*]}"
}

MISSING=$(missing_packages)
[ -z "$MISSING" ] && exit 0

if [ -n "${LIBCLANG_PATH:-}" ] && [[ " $MISSING " == *" libclang-dev "* ]]; then
    say "LIBCLANG_PATH=$LIBCLANG_PATH holds no usable libclang (libclang.so or libclang-<ver>.so[.N], with clang's headers in <its dir>/clang/<ver>/include): fix it or unset it"
    exit 1
fi

how_to="install them (as root: apt-get update && apt-get install -y $MISSING), or, without root, point LIBCLANG_PATH at a directory holding libclang.so, then run the command again"
if [ "$CHECK_ONLY" = 1 ]; then
    say "missing: $MISSING; $how_to"
    exit 1
fi

if [ "$(id -u)" = 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    say "the build needs these Debian packages, which are missing: $MISSING. This user is not root and has no passwordless sudo, so they cannot be installed automatically: $how_to"
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    say "the build needs $MISSING (Debian package names), and this machine has no apt-get: install the equivalents with its package manager (libclang and clang's headers, a C/C++ compiler, make)"
    exit 1
fi

say "installing $MISSING with apt-get (needed to build RocksDB and librdkafka; once per machine)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${SUDO[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends $MISSING; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    say "apt-get could not install $MISSING (its output above; no network or package index?): $how_to"
    exit 1
fi

STILL=$(missing_packages)
if [ -n "$STILL" ]; then
    say "installed $MISSING, but still missing: $STILL (libclang must be loadable as libclang.so or libclang-<ver>.so[.N] with clang's headers beside it): $how_to"
    exit 1
fi
say "installed $MISSING; libclang: $(find_libclang)"
