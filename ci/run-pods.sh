#!/usr/bin/env bash
# Play skiff's example pods for real, with `podman kube play`, offline.
#
# What it does, in order:
#   1. builds (or takes) the static release binary and the skiff image with
#      images/build-local.sh, tagged as the manifests name it
#      (ghcr.io/skiff-logs/skiff:0.1.0); builds the app stand-in image from
#      scratch with busybox-static (images/app-stand-in), tagged as every
#      other image the manifests name; builds the Elasticsearch test server
#      (examples/es_test_server.rs);
#   2. keeps everything in a private podman storage (vfs) and a podman
#      network of its own, both removed at the end, with a containers.conf
#      (runc; nofile and nproc limits, soft equal to hard) named by
#      CONTAINERS_CONF;
#   3. runs ci/pod_checks.py on each manifest: it rewrites a temp copy where
#      podman 4.3 lacks a Kubernetes feature (printing each rewrite), plays
#      it, checks that skiff runs as 65532 with a read-only root, answers
#      /ready, and that what arrived on the test server (or skiff's stdout)
#      is exactly the lines the app wrote on the shared emptyDir, each once,
#      including a burst written just before the pod is stopped; the Job
#      completes through its sentinel file. native-sidecar.yaml is skipped
#      (podman 4.3 has no native sidecars) and the script says so.
#
# ci/check-manifests.sh stays the gate for the manifests as Kubernetes reads
# them; this script proves they run.
#
# Usage: ci/run-pods.sh [options] [MANIFEST...]   (default: manifests/*.yaml)
#   --bin PATH   the static skiff binary (also SKIFF_BIN); without it the
#                script builds one (cargo, release, crt-static)
#   --keep       keep the scratch directory (rewritten manifests, volumes)
#   -h, --help   this text
#
# Needs root and podman, runc, catatonit, busybox-static (.ci/run installs
# them). SKIFF_SKIP_PODS=1 skips the whole run, saying so, for machines where
# podman cannot run pods; it never counts as a pass of the pods.
#
# Environment: SKIFF_BIN, SKIFF_SKIP_PODS, CARGO_TARGET_DIR, CARGO.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SKIFF_IMAGE=ghcr.io/skiff-logs/skiff:0.1.0
readonly POD_HOST=10
bin="${SKIFF_BIN:-}"
keep=false
manifests=()

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
say() { printf '==> %s\n' "$*"; }
fail() { printf 'run-pods: FAIL: %s\n' "$*" >&2; exit 1; }

while (($#)); do
  case "$1" in
    --bin) [[ $# -ge 2 ]] || fail "--bin needs a path"; bin="$2"; shift ;;
    --keep) keep=true ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; fail "unknown option: $1" ;;
    *) manifests+=("$1") ;;
  esac
  shift
done
((${#manifests[@]})) || manifests=("$repo_root"/manifests/*.yaml)

if [[ "${SKIFF_SKIP_PODS:-}" == 1 ]]; then
  printf '\n!!! run-pods: SKIPPED because SKIFF_SKIP_PODS=1: the example pods were NOT played.\n' >&2
  printf '!!! Nothing about them is proven by this run; run ci/run-pods.sh as root with podman.\n\n' >&2
  exit 0
fi
[[ "$(id -u)" == 0 ]] || fail "needs root (host directories owned by the pod's fsGroup, a podman network); set SKIFF_SKIP_PODS=1 to skip loudly"
for tool in podman runc catatonit busybox python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install podman runc catatonit busybox-static; .ci/run does it)"
done
python3 -c 'import yaml' 2>/dev/null || fail "PyYAML is missing (pip install PyYAML)"

started=$(date +%s)
work=$(mktemp -d /tmp/skiff-pods.XXXXXX)
chmod 0755 "$work"

# Private storage and config: nothing here touches the machine's podman state.
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf"
network=""
cleanup() {
  set +e
  # Only ever the private storage: never the machine's own containers.
  [[ "$CONTAINERS_STORAGE_CONF" == "$work/storage.conf" && -f "$CONTAINERS_STORAGE_CONF" ]] || { rm -rf "$work"; return; }
  if [[ -n "$network" ]]; then
    podman pod rm -f -a >/dev/null 2>&1
    podman network rm -f "$network" >/dev/null 2>&1
  fi
  podman rm -f -a >/dev/null 2>&1
  podman rmi -f -a >/dev/null 2>&1
  if $keep; then
    say "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
# Soft equal to hard: podman's defaults ask for more than these VMs allow.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "vfs"
graphroot = "$work/storage"
runroot = "$work/run"
EOF

# --- 1. images ------------------------------------------------------------------
say "skiff image $SKIFF_IMAGE (images/build-local.sh)"
t0=$(date +%s)
if [[ -z "$bin" ]]; then
  bash "$repo_root/images/build-local.sh" --tag "$SKIFF_IMAGE" || fail "images/build-local.sh failed"
else
  bash "$repo_root/images/build-local.sh" --bin "$bin" --tag "$SKIFF_IMAGE" || fail "images/build-local.sh failed"
fi
say "skiff image ready in $(($(date +%s) - t0))s"

busybox_bin=$(command -v busybox)
if readelf -l "$busybox_bin" 2>/dev/null | grep -q INTERP; then
  fail "$busybox_bin is not static (apt-get install busybox-static)"
fi
stand_in=localhost/skiff-app-stand-in:ci
ctx="$work/stand-in"
cp -r "$repo_root/images/app-stand-in" "$ctx"
install -m 0755 "$busybox_bin" "$ctx/busybox"
say "app stand-in image from scratch with $busybox_bin"
podman build --isolation=chroot --pull=never -t "$stand_in" -f "$ctx/Containerfile" "$ctx" \
  >"$work/stand-in.log" 2>&1 || { cat "$work/stand-in.log" >&2; fail "podman build of the stand-in failed"; }
# Every other image the manifests name, under the names podman resolves a
# short name to (localhost/ and docker.io/).
mapfile -t app_images < <(grep -ho 'image: *[^ ]*' "${manifests[@]}" | awk '{print $2}' | sort -u | grep -vxF "$SKIFF_IMAGE")
for image in "${app_images[@]}"; do
  names=("$image")
  if [[ "$image" != */*.*/* && "$image" != *.*/* ]]; then
    [[ "$image" == */* ]] && names=("localhost/$image" "docker.io/$image") \
      || names=("localhost/$image" "docker.io/library/$image")
  fi
  for n in "${names[@]}"; do podman tag "$stand_in" "$n"; done
  printf '    %s -> stand-in (%s)\n' "$image" "${names[*]}"
done

say "Elasticsearch test server (cargo build --example es_test_server)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo_root/target}"
(cd "$repo_root" && "${CARGO:-cargo}" build --locked --quiet --example es_test_server) \
  || fail "cargo build --example es_test_server failed"
es_server="$CARGO_TARGET_DIR/debug/examples/es_test_server"

# --- 2. a network of our own, so the pod's IP is known before it starts -----
for third in 213 214 215 216 217 218 219; do
  name="skiff-pods-$$-$third"
  if podman network create --subnet "10.89.$third.0/24" "$name" >/dev/null 2>&1; then
    network="$name"
    pod_ip="10.89.$third.$POD_HOST"
    break
  fi
done
[[ -n "$network" ]] || fail "could not create a podman network on 10.89.213-219.0/24"
say "network $network; pods get $pod_ip; the host is host.containers.internal"

# --- 3. the pods -----------------------------------------------------------------
pods_started=$(date +%s)
status=0
python3 "$repo_root/ci/pod_checks.py" --es-server "$es_server" --work "$work/pods" \
  --network "$network" --pod-ip "$pod_ip" "${manifests[@]}" || status=$?
now=$(date +%s)
say "pods: $((now - pods_started))s; whole run-pods.sh: $((now - started))s"
exit "$status"
