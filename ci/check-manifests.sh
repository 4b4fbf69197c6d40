#!/usr/bin/env bash
# Check skiff's Kubernetes manifests, offline.
#
#   (a) every manifest validates with kubernetes-validate --strict against
#       Kubernetes 1.29.0 (warnings such as an unknown kind count as failures)
#       and kustomization.yaml lists exactly the manifests;
#   (b) every skiff.toml embedded in a ConfigMap under manifests/, and every
#       config/*.toml, passes `skiff validate --config FILE`, with the
#       environment the container gives it (Downward API and Secret values
#       replaced by samples such as POD_NAME=demo-..., ELASTICSEARCH_HOST=127.0.0.1);
#   (c) probes and ports match the [api] address of the same manifest's
#       skiff.toml (/health for liveness, /ready for readiness and startup), and so do the
#       prometheus.io annotations (port, /metrics);
#   plus: mounts behind every path the config names, ${VAR}s the container
#   sets, exit_on_file for Jobs with a classic sidecar, shutdown_timeout
#   within the grace period, and Pod Security "restricted" with a read-only
#   root filesystem. ci/manifest_checks.py holds the details.
#
# Usage: ci/check-manifests.sh [options]
#   --skip-skiff          leave out (b) (for a branch whose skiff cannot
#                         validate every transform yet); the default runs it
#   --skiff-bin PATH      skiff binary for (b) (also SKIFF_BIN); without
#                         either, the script builds one with cargo
#   --manifests DIR       default: manifests/
#   --config-dir DIR      default: config/
#   --kubernetes-version V   default 1.29.0
#   --install             pip install the Python tools if missing (implied
#                         when CI=true)
#   --self-test           copy the manifests, break each copy in one way
#                         (strict-schema field, probe port, TOML typo, ...)
#                         and assert that the check fails on every one
#   -h, --help            this text
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
skip_skiff=false
skiff_bin="${SKIFF_BIN:-}"
manifests="$repo_root/manifests"
config_dir="$repo_root/config"
k8s_version=1.29.0
install=false
[[ "${CI:-}" == "true" ]] && install=true
self_test=false
# The versions these checks were written against; 1.37 carries the
# schemas of Kubernetes 1.25 to 1.37 and needs no network.
readonly PIP_PACKAGES=("kubernetes-validate==1.37.0" "PyYAML>=6")

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
fail() { printf 'check-manifests: %s\n' "$*" >&2; exit 2; }

while (($#)); do
  case "$1" in
    --skip-skiff) skip_skiff=true ;;
    --skiff-bin) [[ $# -ge 2 ]] || fail "--skiff-bin needs a path"; skiff_bin="$2"; shift ;;
    --manifests) [[ $# -ge 2 ]] || fail "--manifests needs a directory"; manifests="$2"; shift ;;
    --config-dir) [[ $# -ge 2 ]] || fail "--config-dir needs a directory"; config_dir="$2"; shift ;;
    --kubernetes-version) [[ $# -ge 2 ]] || fail "--kubernetes-version needs a value"; k8s_version="$2"; shift ;;
    --install) install=true ;;
    --self-test) self_test=true ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; fail "unknown argument: $1" ;;
  esac
  shift
done

[[ -d "$manifests" ]] || fail "no manifests directory at $manifests"
command -v python3 >/dev/null || fail "python3 is required"

if ! python3 -c 'import yaml, kubernetes_validate' 2>/dev/null; then
  if $install; then
    echo "==> pip install ${PIP_PACKAGES[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}" \
      || fail "pip install failed"
  else
    fail "kubernetes-validate and PyYAML are missing: pip install ${PIP_PACKAGES[*]} (or run with --install)"
  fi
fi
# Run it through the interpreter that has it, whatever is on PATH.
validator="python3 -m kubernetes_validate"

skiff_args=(--skip-skiff)
if ! $skip_skiff; then
  if [[ -z "$skiff_bin" ]]; then
    echo "==> building skiff for skiff validate (SKIFF_BIN unset)"
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo_root/target}"
    (cd "$repo_root" && "${CARGO:-cargo}" build --release --locked --bin skiff) || fail "cargo build failed"
    skiff_bin="$CARGO_TARGET_DIR/release/skiff"
  fi
  [[ -x "$skiff_bin" ]] || fail "no skiff binary at $skiff_bin"
  skiff_args=(--skiff-bin "$skiff_bin")
fi

if $self_test; then
  exec python3 "$repo_root/ci/manifest_checks.py" self-test \
    --manifests "$manifests" --config-dir "$config_dir" \
    --script "$repo_root/ci/check-manifests.sh" "${skiff_args[@]}"
fi
exec python3 "$repo_root/ci/manifest_checks.py" check \
  --manifests "$manifests" --config-dir "$config_dir" \
  --kubernetes-version "$k8s_version" --validator "$validator" "${skiff_args[@]}"
