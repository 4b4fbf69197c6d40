#!/usr/bin/env bash
# Build and check the skiff image without a Docker engine.
#
# What it proves, in order:
#   1. the release binary builds statically (glibc, crt-static; see the notes
#      in images/Dockerfile) and `ldd` agrees;
#   2. it runs as an unprivileged user (65532) from a read-only working
#      directory: `--version`, then `run --once` on a sample log file, whose
#      lines must all come out of the console sink;
#   3. with podman: a FROM-scratch image (images/Containerfile.local, the same
#      layout as the final stage of images/Dockerfile) holding that binary and
#      the CA bundle builds with no network, runs read-only as 65532 with no
#      capabilities (`--version` and a `--once` job on a mounted sample
#      directory, whose times are read in America/New_York from the image's
#      zoneinfo files), and is smaller than the size budget.
#
# Usage: images/build-local.sh [options]
#   --install        apt-get install podman buildah runc if podman is missing
#                    (implied when CI=true)
#   --bin PATH       check this prebuilt binary instead of building one
#                    (also SKIFF_BIN); it must be static
#   --no-image       stop after step 2
#   --tag NAME       image name (default localhost/skiff:local)
#   --max-bytes N    image size budget in bytes (default 15000000, i.e. 15 MB)
#   -h, --help       this text
#
# Environment: CARGO_TARGET_DIR (default <repo>/target), CARGO, SKIFF_BIN, CI.
set -euo pipefail

readonly TARGET_TRIPLE=x86_64-unknown-linux-gnu
readonly RUN_UID=65532
readonly RUN_GID=65532

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
install_pkgs=false
[[ "${CI:-}" == "true" ]] && install_pkgs=true
bin="${SKIFF_BIN:-}"
build_image=true
tag="localhost/skiff:local"
max_bytes=15000000

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
say() { printf '==> %s\n' "$*"; }
fail() { printf 'build-local: FAIL: %s\n' "$*" >&2; exit 1; }

while (($#)); do
  case "$1" in
    --install) install_pkgs=true ;;
    --bin) [[ $# -ge 2 ]] || fail "--bin needs a path"; bin="$2"; shift ;;
    --no-image) build_image=false ;;
    --tag) [[ $# -ge 2 ]] || fail "--tag needs a name"; tag="$2"; shift ;;
    --max-bytes) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || fail "--max-bytes needs a number"; max_bytes="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; fail "unknown argument: $1" ;;
  esac
  shift
done

work=$(mktemp -d /tmp/skiff-build-local.XXXXXX)
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do
    podman --storage-driver=vfs rm -f "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
# The unprivileged user must be able to walk into the scratch directory.
chmod 0755 "$work"

# --- 1. static binary -------------------------------------------------------
if [[ -z "$bin" ]]; then
  say "building skiff (release, static glibc, $TARGET_TRIPLE)"
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo_root/target}"
  (cd "$repo_root" && RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    "${CARGO:-cargo}" build --release --locked --target "$TARGET_TRIPLE" --bin skiff) \
    || fail "cargo build failed"
  bin="$CARGO_TARGET_DIR/$TARGET_TRIPLE/release/skiff"
fi
[[ -f "$bin" && -x "$bin" ]] || fail "no executable at $bin"

say "checking that $bin is statically linked"
ldd_out=$(ldd "$bin" 2>&1 || true)
if ! grep -Eq 'not a dynamic executable|statically linked' <<<"$ldd_out"; then
  printf '%s\n' "$ldd_out" >&2
  fail "$bin is dynamically linked; a FROM scratch image cannot run it"
fi
if readelf -l "$bin" 2>/dev/null | grep -q 'INTERP'; then
  fail "$bin asks for a program interpreter (PT_INTERP); it is not static"
fi
printf '    ldd: %s\n' "$(tr -s ' \t\n' ' ' <<<"$ldd_out")"
printf '    size: %s bytes\n' "$(stat -c %s "$bin")"

# --- 2. unprivileged, read-only working directory ---------------------------
# Layout under $work (root-owned, 0755 unless said):
#   bin/skiff             a copy of the binary
#   ro/                   the working directory, 0555: nobody can write there
#   host/logs/app.log     the sample log
#   host/skiff.toml       config for the run on the host
#   host/data/            data_dir, owned by the unprivileged user
#   ctr/skiff.toml        config for the run in the container
readonly markers=(alpha bravo charlie delta echo)
mkdir -p "$work/bin" "$work/ro" "$work/host/logs" "$work/host/data" "$work/ctr"
install -m 0755 "$bin" "$work/bin/skiff"
chmod 0555 "$work/ro"
chown "$RUN_UID:$RUN_GID" "$work/host/data"
for m in "${markers[@]}"; do
  printf '2024-05-01T12:00:00 INFO skiff-build-check %s\n' "$m" >>"$work/host/logs/app.log"
done
chmod 0644 "$work/host/logs/app.log"

# The smallest config that reads the sample and prints it: file -> console.
write_config() { # $1 = file, $2 = log dir, $3 = data dir
  cat >"$1" <<EOF
data_dir = "$3"
shutdown_timeout = "5s"

[log]
level = "warn"
format = "text"

[api]
enabled = false
address = "127.0.0.1:8081"

[sources.app_logs]
type = "file"
include = ["$2/*.log"]
read_from = "beginning"

# Read in a named zone: in the image this needs its zoneinfo files.
[transforms.time]
type = "parse_regex"
inputs = ["app_logs"]
pattern = '^(?P<timestamp>\\S+) (?P<level>\\S+) (?P<message>.*)$'
timestamp = { format = "%Y-%m-%dT%H:%M:%S", timezone = "America/New_York" }

[sinks.stdout]
type = "console"
inputs = ["time"]
encoding = "json"
EOF
  chmod 0644 "$1"
}
write_config "$work/host/skiff.toml" "$work/host/logs" "$work/host/data"
write_config "$work/ctr/skiff.toml" /var/log/app /var/lib/skiff

# Every sample line must have been printed at least once (delivery is
# at-least-once; a one-shot run on an unchanging file prints each once).
check_once_output() { # $1 = what ran, $2 = file with its stdout
  local m missing=()
  for m in "${markers[@]}"; do
    grep -q "skiff-build-check $m" "$2" || missing+=("$m")
  done
  if ((${#missing[@]})); then
    echo "--- output of $1:" >&2; cat "$2" >&2
    fail "$1: lines missing from the console sink: ${missing[*]}"
  fi
  # 12:00 in New York on 2024-05-01 (daylight saving time) is 16:00 UTC.
  if ! grep -q '"timestamp":"2024-05-01T16:00:00.000Z"' "$2"; then
    echo "--- output of $1:" >&2; cat "$2" >&2
    fail "$1: times were not read in America/New_York"
  fi
}

as_user() { setpriv --reuid="$RUN_UID" --regid="$RUN_GID" --clear-groups -- "$@"; }

say "running as $RUN_UID:$RUN_GID in a read-only directory: skiff --version"
version=$(cd "$work/ro" && as_user timeout 30 "$work/bin/skiff" --version) \
  || fail "skiff --version exited non-zero"
[[ "$version" =~ ^skiff\ [0-9] ]] || fail "unexpected --version output: '$version'"
printf '    %s\n' "$version"

say "running as $RUN_UID:$RUN_GID: skiff run --once on a sample file"
if ! (cd "$work/ro" && as_user timeout 60 "$work/bin/skiff" run --config "$work/host/skiff.toml" --once) \
  >"$work/once.out" 2>"$work/once.err"; then
  cat "$work/once.err" >&2
  fail "skiff run --once exited non-zero"
fi
check_once_output "skiff run --once" "$work/once.out"
printf '    %s lines delivered\n' "$(grep -c skiff-build-check "$work/once.out")"

$build_image || { say "image stage skipped (--no-image)"; say "OK"; exit 0; }

# --- 3. image ---------------------------------------------------------------
if ! command -v podman >/dev/null; then
  if $install_pkgs; then
    say "installing podman buildah runc"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || fail "apt-get update failed"
    apt-get install -y -q --no-install-recommends podman buildah runc || fail "apt-get install failed"
  else
    say "podman is not installed: image stage skipped (run with --install, or CI=true)"
    say "OK (binary only)"
    exit 0
  fi
fi
command -v runc >/dev/null || fail "runc is missing (apt-get install runc)"

# vfs storage and chroot isolation: no overlay or user-namespace support needed.
pm() { podman --storage-driver=vfs "$@"; }
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[[ -s "$ca_bundle" ]] || fail "$ca_bundle is missing (apt-get install ca-certificates)"

ctx="$work/context"
mkdir -p "$ctx/var/lib/skiff"
install -m 0755 "$bin" "$ctx/skiff"
install -m 0644 "$ca_bundle" "$ctx/ca-certificates.crt"
echo "skiff:x:$RUN_UID:$RUN_GID:skiff:/var/lib/skiff:/sbin/nologin" >"$ctx/passwd"
echo "skiff:x:$RUN_GID:" >"$ctx/group"
zoneinfo=/usr/share/zoneinfo
[[ -f "$zoneinfo/America/New_York" ]] || fail "$zoneinfo is missing (apt-get install tzdata)"
cp -a "$zoneinfo" "$ctx/zoneinfo"
rm -rf "$ctx/zoneinfo/right" "$ctx/zoneinfo/posix" "$ctx/zoneinfo/localtime"

old_id=$(pm image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
revision=$(git -C "$repo_root" rev-parse HEAD 2>/dev/null || echo unknown)
say "building $tag from scratch (podman, vfs, chroot isolation)"
pm build --isolation=chroot --pull=never --layers=false \
  --build-arg VERSION="${version#skiff }" \
  --build-arg REVISION="$revision" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -f "$repo_root/images/Containerfile.local" -t "$tag" "$ctx" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; fail "podman build failed"; }
new_id=$(pm image inspect --format '{{.Id}}' "$tag")
if [[ -n "$old_id" && "$old_id" != "$new_id" ]]; then
  pm rmi "$old_id" >/dev/null 2>&1 || true  # the previous build of this tag
fi

# The same restrictions as the manifests: read-only root, non-root, no
# capabilities, no privilege escalation, no network.
run_flags=(--runtime runc --network none
  --ulimit nofile=1024:20000 --ulimit nproc=32768:32768
  --read-only --user "$RUN_UID:$RUN_GID" --cap-drop ALL
  --security-opt no-new-privileges)

say "podman run $tag --version"
name="skiff-build-check-$$-version"
containers+=("$name")
cversion=$(pm run --rm --name "$name" "${run_flags[@]}" "$tag" --version) \
  || fail "skiff --version failed in the container"
[[ "$cversion" == "$version" ]] || fail "container says '$cversion', binary says '$version'"
printf '    %s\n' "$cversion"

say "podman run $tag run --once on a mounted sample directory"
# data_dir is a host directory owned by the unprivileged user, as an emptyDir
# would be; a --tmpfs would be closer, but the kernels of some VMs ignore the
# mode= option of tmpfs mounts and leave it root-owned 0755.
mkdir -p "$work/ctr-data"
chown "$RUN_UID:$RUN_GID" "$work/ctr-data"
name="skiff-build-check-$$-once"
containers+=("$name")
if ! pm run --rm --name "$name" "${run_flags[@]}" \
  -v "$work/host/logs:/var/log/app:ro" \
  -v "$work/ctr:/etc/skiff:ro" \
  -v "$work/ctr-data:/var/lib/skiff:rw" \
  "$tag" run --config /etc/skiff/skiff.toml --once >"$work/ctr-once.out" 2>"$work/ctr-once.err"; then
  cat "$work/ctr-once.err" >&2
  fail "skiff run --once failed in the container"
fi
check_once_output "skiff run --once (container)" "$work/ctr-once.out"
printf '    %s lines delivered\n' "$(grep -c skiff-build-check "$work/ctr-once.out")"

size=$(pm image inspect --format '{{.Size}}' "$tag")
printf '==> image %s: %s bytes (%s MB; budget %s bytes)\n' "$tag" "$size" \
  "$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1000000 }')" "$max_bytes"
((size < max_bytes)) || fail "image is $size bytes, not under the budget of $max_bytes"
say "OK"
