#!/usr/bin/env python3
"""Checks of skiff's Kubernetes manifests; run through ci/check-manifests.sh.

`check` runs every check on a manifests directory and prints one line per
problem, tagged with the check that found it:

  [yaml]        the file does not parse
  [schema]      kubernetes-validate --strict against the target Kubernetes
  [kustomize]   kustomization.yaml lists exactly the manifests, names unique
  [toml]        a skiff.toml embedded in a ConfigMap does not parse
  [skiff]       `skiff validate --config FILE` refuses an embedded config or
                a config/*.toml
  [env]         a ${VAR} (without :-default) that the container does not set
  [probes]      probes and ports against the [api] address of the same
                manifest's skiff.toml: /health, /ready, the port, a listener
                reachable by the kubelet
  [prometheus]  prometheus.io/* annotations against skiff's /metrics port
  [mounts]      config, data_dir, log include paths and the files the config
                names (labels, annotations, password, CA) are really mounted
  [sentinel]    a Job's classic skiff sidecar has exit_on_file on a shared
                volume; native sidecars do not need it
  [shutdown]    skiff's shutdown_timeout fits in terminationGracePeriodSeconds
  [security]    Pod Security "restricted" plus a read-only root filesystem and
                size-limited emptyDirs; skiff's image and user

`self-test` copies the manifests, breaks each copy in one way and asserts
that ci/check-manifests.sh fails on it, for the right reason.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
IMAGE_REPO = "ghcr.io/skiff-logs/skiff"
SKIFF_UID = 65532
DEFAULT_CONFIG = "/etc/skiff/skiff.toml"
DEFAULT_DATA_DIR = "/var/lib/skiff"
DEFAULT_GRACE = 30
WORKLOAD_KINDS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
# Values given to environment variables that come from the Downward API or a
# Secret when a config is validated outside a pod.
SAMPLE_ENV = {
    "POD_NAME": "demo-7d9f8-abcde",
    "POD_NAMESPACE": "demo",
    "NODE_NAME": "node-1",
    "POD_IP": "10.0.0.10",
    "CONTAINER_NAME": "app",
    "ELASTICSEARCH_HOST": "127.0.0.1",
    "ELASTICSEARCH_PORT": "9200",
    "ES_USER": "skiff-writer",
}
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    passed: int = 0

    def fail(self, tag: str, where: str, msg: str) -> None:
        self.problems.append(f"FAIL [{tag}] {where}: {msg}")

    def ok(self) -> None:
        self.passed += 1


@dataclass
class Doc:
    path: Path
    body: dict

    @property
    def kind(self) -> str:
        return self.body.get("kind", "")

    @property
    def name(self) -> str:
        return (self.body.get("metadata") or {}).get("name", "")

    def where(self) -> str:
        return f"{self.path.name} {self.kind}/{self.name}"


def expected_image() -> str:
    cargo = tomllib.loads((REPO / "Cargo.toml").read_text())
    return f"{IMAGE_REPO}:{cargo['package']['version']}"


def load_docs(paths: list[Path], rep: Report) -> list[Doc]:
    docs = []
    for p in paths:
        try:
            for body in yaml.safe_load_all(p.read_text()):
                if isinstance(body, dict):
                    docs.append(Doc(p, body))
        except yaml.YAMLError as e:
            rep.fail("yaml", p.name, str(e).replace("\n", " "))
    return docs


def duration_seconds(text: str) -> float | None:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*", str(text))
    if not m:
        return None
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def toml_files(cfg: dict) -> list[tuple[str, str]]:
    """(what, path) of every file a skiff config reads besides its logs."""
    out = []
    for name, t in (cfg.get("transforms") or {}).items():
        for key in ("labels_file", "annotations_file"):
            if isinstance(t, dict) and t.get(key):
                out.append((f"transforms.{name}.{key}", t[key]))
    for name, s in (cfg.get("sinks") or {}).items():
        if not isinstance(s, dict):
            continue
        auth = s.get("auth") or {}
        tls = s.get("tls") or {}
        for what, val in (("auth.password_file", auth.get("password_file")),
                          ("api_key_file", s.get("api_key_file")),
                          ("tls.ca_file", tls.get("ca_file"))):
            if val:
                out.append((f"sinks.{name}.{what}", val))
    return out


# --- pods -------------------------------------------------------------------

def pod_template(doc: Doc) -> tuple[dict, dict] | None:
    """(pod metadata, pod spec) of a workload, or None."""
    b = doc.body
    if doc.kind == "Pod":
        return b.get("metadata") or {}, b.get("spec") or {}
    if doc.kind == "CronJob":
        t = (((b.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    else:
        t = (b.get("spec") or {}).get("template") or {}
    return t.get("metadata") or {}, t.get("spec") or {}


def is_skiff(container: dict) -> bool:
    image = str(container.get("image", ""))
    return image.split("@")[0].rsplit(":", 1)[0].endswith("/skiff") or image.startswith("skiff:")


def config_path(container: dict) -> str:
    args = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    for i, a in enumerate(args):
        if a == "--config" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--config="):
            return a.split("=", 1)[1]
    return DEFAULT_CONFIG


def under(path: str, mount: str) -> str | None:
    """path relative to mount when path lies under it, else None."""
    mount = mount.rstrip("/") or "/"
    if path == mount:
        return ""
    prefix = mount if mount.endswith("/") else mount + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def mount_for(container: dict, path: str) -> tuple[dict, str] | None:
    """The deepest volumeMount holding path, and path relative to it."""
    best = None
    for m in container.get("volumeMounts") or []:
        rel = under(path, m.get("mountPath", ""))
        if rel is not None and (best is None or len(m["mountPath"]) > len(best[0]["mountPath"])):
            best = (m, rel)
    return best


class Objects:
    """ConfigMaps and Secrets by name, to follow volumes to their content."""

    def __init__(self, docs: list[Doc]):
        self.configmaps = {d.name: d for d in docs if d.kind == "ConfigMap"}
        self.secrets = {d.name: d for d in docs if d.kind == "Secret"}

    def keys(self, kind: str, name: str) -> set[str] | None:
        d = (self.configmaps if kind == "configMap" else self.secrets).get(name)
        if d is None:
            return None
        b = d.body
        return set((b.get("data") or {}) | (b.get("stringData") or {}) | (b.get("binaryData") or {}))


def volume_files(volume: dict, objs: Objects) -> dict[str, tuple[str, str, str]] | None:
    """relative path -> (kind, object name, key) that a volume provides.
    None: any path may exist (emptyDir and the like, or an unknown object)."""
    sources = []
    if "projected" in volume:
        sources = volume["projected"].get("sources") or []
    else:
        sources = [volume]
    files: dict[str, tuple[str, str, str]] = {}
    for src in sources:
        for kind in ("configMap", "secret"):
            if kind in src:
                ref = src[kind]
                name = ref.get("name") or ref.get("secretName")
                if ref.get("items"):
                    for it in ref["items"]:
                        files[it["path"]] = (kind, name, it["key"])
                else:
                    keys = objs.keys(kind, name)
                    if keys is None:
                        return None
                    for k in keys:
                        files[k] = (kind, name, k)
        if "downwardAPI" in src:
            for it in src["downwardAPI"].get("items") or []:
                files[it["path"]] = ("downwardAPI", "", it["path"])
        if not any(k in src for k in ("configMap", "secret", "downwardAPI")):
            return None
    return files


def container_env(container: dict) -> tuple[dict[str, str], set[str]]:
    """Environment for validating a config as this container would load it,
    and the names the container sets."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    names = set()
    for e in container.get("env") or []:
        n = e["name"]
        names.add(n)
        if "value" in e:
            env[n] = str(e["value"])
        else:
            env[n] = SAMPLE_ENV.get(n, f"sample-{n.lower()}")
    if container.get("envFrom"):
        names.add("*")  # anything may come from envFrom
    return env, names


# --- the checks ---------------------------------------------------------------

def check_schema(files: list[Path], version: str, validator: list[str], rep: Report) -> None:
    for p in files:
        r = subprocess.run(validator + ["--strict", "--kubernetes-version", version, "--quiet", str(p)],
                           capture_output=True, text=True)
        out = (r.stdout + r.stderr).strip()
        # A warning is a failure too: an unknown kind or apiVersion only warns.
        if r.returncode != 0 or "WARN" in out or "ERROR" in out:
            for line in out.splitlines() or [f"kubernetes-validate exited {r.returncode}"]:
                rep.fail("schema", p.name, line)
        else:
            rep.ok()


def check_kustomization(mdir: Path, files: list[Path], docs: list[Doc], rep: Report) -> None:
    k = mdir / "kustomization.yaml"
    if not k.exists():
        rep.fail("kustomize", mdir.name, "no kustomization.yaml listing the manifests")
        return
    try:
        body = yaml.safe_load(k.read_text()) or {}
    except yaml.YAMLError as e:
        rep.fail("kustomize", k.name, f"does not parse: {e}")
        return
    listed = body.get("resources") or []
    bad = False
    for r in listed:
        if not (mdir / r).is_file():
            rep.fail("kustomize", k.name, f"lists {r}, which does not exist")
            bad = True
    for p in files:
        if p.name not in listed:
            rep.fail("kustomize", k.name, f"does not list {p.name}")
            bad = True
    if len(set(listed)) != len(listed):
        rep.fail("kustomize", k.name, "lists a file twice")
        bad = True
    seen: dict[tuple, str] = {}
    for d in docs:
        key = (d.kind, (d.body.get("metadata") or {}).get("namespace", ""), d.name)
        if key in seen:
            rep.fail("kustomize", d.path.name, f"{d.kind}/{d.name} is also defined in {seen[key]}")
            bad = True
        seen[key] = d.path.name
    if not bad:
        rep.ok()


@dataclass
class SkiffConfig:
    what: str           # for messages
    file: Path          # extracted TOML
    env: dict[str, str]  # environment to validate with


def check_skiff_containers(docs: list[Doc], objs_all: Objects, image: str, rep: Report,
                           tmp: Path) -> list[SkiffConfig]:
    """probes, prometheus, mounts, env, sentinel, shutdown; returns the
    configs to give to skiff validate."""
    configs: list[SkiffConfig] = []
    used_cms: set[tuple[Path, str]] = set()
    by_file: dict[Path, list[Doc]] = {}
    for d in docs:
        by_file.setdefault(d.path, []).append(d)

    for path, fdocs in by_file.items():
        objs_here = Objects(fdocs)
        for d in fdocs:
            if d.kind not in WORKLOAD_KINDS:
                continue
            meta, spec = pod_template(d)
            volumes = {v["name"]: v for v in spec.get("volumes") or []}
            inits = spec.get("initContainers") or []
            mains = spec.get("containers") or []
            annotations = meta.get("annotations") or {}
            grace = spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE)
            api_ports: list[int] = []
            for c in inits + mains:
                if not is_skiff(c):
                    continue
                where = f"{d.where()} container {c['name']}"
                native = c in inits and c.get("restartPolicy") == "Always"
                if c in inits and not native:
                    rep.fail("sentinel", where, "skiff as a plain init container would block the pod; "
                             "use restartPolicy: Always (native sidecar) or a regular container")
                if c.get("image") != image:
                    rep.fail("security", where, f"image {c.get('image')} is not {image}")

                # the config file, from a ConfigMap in the same manifest
                cpath = config_path(c)
                mf = mount_for(c, cpath)
                if mf is None:
                    rep.fail("mounts", where, f"config {cpath} is on no volume mount")
                    continue
                mount, rel = mf
                vol = volumes.get(mount["name"])
                if vol is None:
                    rep.fail("mounts", where, f"volume {mount['name']} is not defined")
                    continue
                vfiles = volume_files(vol, objs_here) or {}
                src = vfiles.get(rel)
                if not src or src[0] != "configMap" or src[1] not in objs_here.configmaps:
                    rep.fail("mounts", where, f"config {cpath} does not come from a ConfigMap of {path.name}")
                    continue
                cm = objs_here.configmaps[src[1]]
                used_cms.add((path, cm.name))
                text = str((cm.body.get("data") or {}).get(src[2], ""))
                try:
                    cfg = tomllib.loads(text)
                except tomllib.TOMLDecodeError as e:
                    rep.fail("toml", f"{path.name} ConfigMap/{cm.name} {src[2]}", str(e))
                    continue
                env, env_names = container_env(c)
                f = tmp / f"{path.stem}--{cm.name}--{c['name']}--{src[2]}"
                f.write_text(text)
                configs.append(SkiffConfig(f"{path.name} ConfigMap/{cm.name} {src[2]} (as in container {c['name']})",
                                           f, env))

                # ${VAR} without a default must be set by the container
                missing = sorted({m.group(1) for m in ENV_REF.finditer(text) if m.group(2) is None}
                                 - env_names)
                if missing and "*" not in env_names:
                    rep.fail("env", where, f"config uses ${{{'}, ${'.join(missing)}}} but the container does not set it")
                else:
                    rep.ok()

                before = len(rep.problems)
                check_probes(c, cfg, where, rep, api_ports)
                check_mounts(c, cfg, volumes, objs_here, objs_all, inits + mains, where, rep)
                check_sentinel(d, c, cfg, native, volumes, inits + mains, where, rep)
                st = duration_seconds(cfg.get("shutdown_timeout", "0s"))
                if st is None:
                    rep.fail("shutdown", where, f"cannot read shutdown_timeout {cfg.get('shutdown_timeout')!r}")
                elif st >= grace:
                    rep.fail("shutdown", where, f"shutdown_timeout {cfg['shutdown_timeout']} does not fit in "
                             f"terminationGracePeriodSeconds {grace}: the kubelet kills skiff mid-drain")
                if len(rep.problems) == before:
                    rep.ok()
            check_prometheus(d, annotations, api_ports, rep)

    # ConfigMaps with a TOML that no skiff container mounts: still validate
    for d in docs:
        if d.kind != "ConfigMap" or (d.path, d.name) in used_cms:
            continue
        for key, text in (d.body.get("data") or {}).items():
            if not key.endswith(".toml"):
                continue
            try:
                tomllib.loads(str(text))
            except tomllib.TOMLDecodeError as e:
                rep.fail("toml", f"{d.where()} {key}", str(e))
                continue
            f = tmp / f"{d.path.stem}--{d.name}--{key}"
            f.write_text(str(text))
            configs.append(SkiffConfig(f"{d.where()} {key}", f, {"PATH": os.environ.get("PATH", ""), **SAMPLE_ENV}))
    return configs


def probe_port(c: dict, port) -> int | None:
    if isinstance(port, int):
        return port
    for p in c.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def check_probes(c: dict, cfg: dict, where: str, rep: Report, api_ports: list[int]) -> None:
    api = cfg.get("api") or {}
    enabled = bool(api.get("enabled", False))
    probes = {k: c.get(k) for k in ("livenessProbe", "readinessProbe", "startupProbe") if c.get(k)}
    for kind, p in probes.items():
        if "exec" in p:
            rep.fail("probes", where, f"{kind} uses exec, but the skiff image has no shell or tools")
    if not enabled:
        for kind, p in probes.items():
            if "httpGet" in p or "tcpSocket" in p:
                rep.fail("probes", where, f"{kind} probes skiff, but [api] is not enabled in its config")
        return
    address = str(api.get("address", ""))
    m = re.fullmatch(r"(.*):(\d+)", address)
    if not m:
        rep.fail("probes", where, f"[api] address {address!r} has no port")
        return
    host, port = m.group(1).strip("[]"), int(m.group(2))
    api_ports.append(port)
    if host in ("127.0.0.1", "localhost", "::1"):
        rep.fail("probes", where, f"[api] listens on {host}: the kubelet's probes cannot reach it")
    if port not in [p.get("containerPort") for p in c.get("ports") or []]:
        rep.fail("probes", where, f"no containerPort {port} for skiff's [api] listener")
    wanted = {"livenessProbe": {"/health"}, "readinessProbe": {"/ready"}, "startupProbe": {"/ready"}}
    for kind in ("livenessProbe", "readinessProbe"):
        if kind not in probes:
            rep.fail("probes", where, f"no {kind} although skiff serves {sorted(wanted[kind])[0]} on {port}")
    for kind, p in probes.items():
        act = p.get("httpGet") or p.get("tcpSocket")
        if not act:
            continue
        got = probe_port(c, act.get("port"))
        if got != port:
            rep.fail("probes", where, f"{kind} port {act.get('port')} is not skiff's [api] port {port}")
        if "httpGet" in p and p["httpGet"].get("path") not in wanted[kind]:
            rep.fail("probes", where, f"{kind} path {p['httpGet'].get('path')} is not "
                     f"{' or '.join(sorted(wanted[kind]))}")


def check_prometheus(d: Doc, annotations: dict, api_ports: list[int], rep: Report) -> None:
    if str(annotations.get("prometheus.io/scrape", "")).lower() != "true":
        return
    where = d.where()
    if not api_ports:
        rep.fail("prometheus", where, "prometheus.io/scrape is set but no skiff container serves /metrics")
        return
    port = str(annotations.get("prometheus.io/port", ""))
    path = annotations.get("prometheus.io/path", "/metrics")
    bad = False
    if port not in {str(p) for p in api_ports}:
        rep.fail("prometheus", where, f"prometheus.io/port {port or '(none)'} is not skiff's [api] port "
                 f"{', '.join(map(str, api_ports))}")
        bad = True
    if path != "/metrics":
        rep.fail("prometheus", where, f"prometheus.io/path {path} is not /metrics")
        bad = True
    if not bad:
        rep.ok()


def check_mounts(c: dict, cfg: dict, volumes: dict, objs_here: Objects, objs_all: Objects,
                 containers: list[dict], where: str, rep: Report) -> None:
    # data_dir: writable, and an emptyDir (the root filesystem is read-only)
    data_dir = cfg.get("data_dir", DEFAULT_DATA_DIR)
    mf = mount_for(c, data_dir)
    if mf is None:
        rep.fail("mounts", where, f"data_dir {data_dir} is on no volume: the root filesystem is read-only")
    else:
        m, _ = mf
        if m.get("readOnly"):
            rep.fail("mounts", where, f"data_dir {data_dir} is mounted read-only")
        if "emptyDir" not in volumes.get(m["name"], {}):
            rep.fail("mounts", where, f"data_dir {data_dir} is not on an emptyDir")
    # log files: on a volume that another container writes
    for sname, s in (cfg.get("sources") or {}).items():
        if not isinstance(s, dict) or s.get("type") != "file":
            continue
        for pattern in s.get("include") or []:
            base = pattern.split("*")[0].split("?")[0].split("[")[0].rsplit("/", 1)[0] or "/"
            mf = mount_for(c, base)
            if mf is None:
                rep.fail("mounts", where, f"sources.{sname} include {pattern} is on no volume mount")
                continue
            vname = mf[0]["name"]
            writers = [o["name"] for o in containers if o is not c and any(
                m.get("name") == vname and not m.get("readOnly") for m in o.get("volumeMounts") or [])]
            if not writers:
                rep.fail("mounts", where, f"no other container writes volume {vname}, where {pattern} is read")
    # the other files the config names
    for what, fpath in toml_files(cfg):
        mf = mount_for(c, fpath)
        if mf is None:
            rep.fail("mounts", where, f"{what} {fpath} is on no volume mount")
            continue
        m, rel = mf
        vol = volumes.get(m["name"])
        if vol is None:
            rep.fail("mounts", where, f"volume {m['name']} is not defined")
            continue
        files = volume_files(vol, objs_all)
        if files is not None and rel not in files:
            rep.fail("mounts", where, f"{what} {fpath}: volume {m['name']} provides no {rel!r}")


def check_sentinel(d: Doc, c: dict, cfg: dict, native: bool, volumes: dict, containers: list[dict],
                   where: str, rep: Report) -> None:
    sentinel = cfg.get("exit_on_file")
    if d.kind in ("Job", "CronJob") and not native and not sentinel:
        rep.fail("sentinel", where, "a classic sidecar in a Job needs exit_on_file, "
                 "or the pod never completes (or make it a native sidecar)")
    if not sentinel:
        return
    if native or d.kind not in ("Job", "CronJob", "Pod"):
        rep.fail("sentinel", where, "exit_on_file in a long-running workload or a native sidecar: "
                 "skiff would exit and be restarted")
    mf = mount_for(c, sentinel)
    if mf is None:
        rep.fail("sentinel", where, f"exit_on_file {sentinel} is on no volume mount")
        return
    vname = mf[0]["name"]
    if not any(o is not c and any(m.get("name") == vname and not m.get("readOnly")
                                  for m in o.get("volumeMounts") or []) for o in containers):
        rep.fail("sentinel", where, f"no other container can create {sentinel} (volume {vname})")


def check_security(docs: list[Doc], image: str, rep: Report) -> None:
    for d in docs:
        if d.kind not in WORKLOAD_KINDS:
            continue
        _, spec = pod_template(d)
        where = d.where()
        before = len(rep.problems)
        psc = spec.get("securityContext") or {}
        for k in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(k):
                rep.fail("security", where, f"{k} is not allowed")
        for v in spec.get("volumes") or []:
            if "hostPath" in v:
                rep.fail("security", where, f"volume {v['name']} is a hostPath")
            if "emptyDir" in v and not (v["emptyDir"] or {}).get("sizeLimit"):
                rep.fail("security", where, f"emptyDir {v['name']} has no sizeLimit")
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            csc = c.get("securityContext") or {}
            cw = f"container {c['name']}"

            def eff(key):
                return csc.get(key, psc.get(key))
            if eff("runAsNonRoot") is not True:
                rep.fail("security", where, f"{cw}: runAsNonRoot is not true")
            if eff("runAsUser") == 0:
                rep.fail("security", where, f"{cw}: runs as root")
            if csc.get("privileged"):
                rep.fail("security", where, f"{cw}: privileged")
            if csc.get("allowPrivilegeEscalation") is not False:
                rep.fail("security", where, f"{cw}: allowPrivilegeEscalation is not false")
            caps = csc.get("capabilities") or {}
            if "ALL" not in (caps.get("drop") or []):
                rep.fail("security", where, f"{cw}: capabilities do not drop ALL")
            if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
                rep.fail("security", where, f"{cw}: adds capabilities {caps.get('add')}")
            sp = (eff("seccompProfile") or {}).get("type")
            if sp not in ("RuntimeDefault", "Localhost"):
                rep.fail("security", where, f"{cw}: seccompProfile is {sp or 'unset'}, not RuntimeDefault")
            if csc.get("readOnlyRootFilesystem") is not True:
                rep.fail("security", where, f"{cw}: readOnlyRootFilesystem is not true")
            if is_skiff(c) and eff("runAsUser") != SKIFF_UID:
                rep.fail("security", where, f"{cw}: skiff should run as {SKIFF_UID}, the image's user")
        if len(rep.problems) == before:
            rep.ok()


def check_with_skiff(configs: list[SkiffConfig], config_dir: Path, skiff: str, rep: Report) -> None:
    extra = sorted(config_dir.glob("*.toml")) if config_dir.is_dir() else []
    base_env = {"PATH": os.environ.get("PATH", ""), **SAMPLE_ENV}
    all_configs = configs + [SkiffConfig(str(p.relative_to(config_dir.parent)) if config_dir.parent in p.parents
                                         else str(p), p, base_env) for p in extra]
    # A validator that accepts anything proves nothing: it must refuse this.
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as broken:
        broken.write('[sources.app_logs\ntype = "file"\n')
    try:
        r = subprocess.run([skiff, "validate", "--config", broken.name], capture_output=True, text=True,
                           env=base_env, timeout=60)
    finally:
        os.unlink(broken.name)
    if r.returncode == 0:
        rep.fail("skiff", skiff, "`skiff validate` accepted a config that is not even TOML: "
                 "this binary does not validate configs yet")
        return
    for sc in all_configs:
        r = subprocess.run([skiff, "validate", "--config", str(sc.file)], capture_output=True, text=True,
                           env=sc.env, timeout=60)
        if r.returncode != 0:
            msg = (r.stderr or r.stdout).strip().replace(str(sc.file), "<config>")
            rep.fail("skiff", sc.what, f"skiff validate exited {r.returncode}: {msg}")
        else:
            rep.ok()
    print(f"skiff validate: {len(all_configs)} configs ({len(configs)} from ConfigMaps, "
          f"{len(extra)} from {config_dir})")


def run_check(args) -> int:
    mdir = Path(args.manifests).resolve()
    files = sorted(p for p in mdir.glob("*.yaml") if p.name != "kustomization.yaml")
    files += sorted(p for p in mdir.glob("*.yml"))
    rep = Report()
    if not files:
        rep.fail("yaml", str(mdir), "no manifests")
    docs = load_docs(files, rep)
    validator = args.validator.split()
    image = args.image or expected_image()
    check_schema(files, args.kubernetes_version, validator, rep)
    check_kustomization(mdir, files, docs, rep)
    check_security(docs, image, rep)
    with tempfile.TemporaryDirectory(prefix="skiff-manifests.") as tmp:
        configs = check_skiff_containers(docs, Objects(docs), image, rep, Path(tmp))
        if args.skip_skiff:
            print("skiff validate: SKIPPED (--skip-skiff)")
        else:
            check_with_skiff(configs, Path(args.config_dir).resolve(), args.skiff_bin, rep)
    for p in rep.problems:
        print(p)
    print(f"manifests: {rep.passed} passed, {len(rep.problems)} failed")
    return 1 if rep.problems else 0


# --- self-test --------------------------------------------------------------

@dataclass
class Breakage:
    name: str
    file: str
    old: str
    new: str
    tag: str
    needs_skiff: bool = False


BREAKAGES = [
    Breakage("unknown field in a container (strict schema)", "logging-sidecar.yaml",
             "      imagePullPolicy: IfNotPresent\n",
             "      imagePullPolicy: IfNotPresent\n      imagePullPolicyy: Always\n", "schema"),
    Breakage("misspelt kind", "log-adapter.yaml", "kind: Pod\n", "kind: Podd\n", "schema"),
    Breakage("liveness probe on the wrong port", "elasticsearch-sidecar.yaml",
             "          path: /health\n          port: 8081\n",
             "          path: /health\n          port: 9090\n", "probes"),
    Breakage("readiness probe on the wrong path", "log-adapter.yaml",
             "path: /ready\n", "path: /readyz\n", "probes"),
    Breakage("native sidecar started on /health, before its pipeline runs", "native-sidecar.yaml",
             "              path: /ready\n              port: 8081\n            periodSeconds: 1\n",
             "              path: /health\n              port: 8081\n            periodSeconds: 1\n", "probes"),
    Breakage("[api] port changed in the ConfigMap only", "deployment-with-sidecars.yaml",
             'address = "0.0.0.0:8081"', 'address = "0.0.0.0:8082"', "probes"),
    Breakage("[api] bound to loopback", "logging-sidecar.yaml",
             'address = "0.0.0.0:8081"', 'address = "127.0.0.1:8081"', "probes"),
    Breakage("Prometheus annotation on the exporter's port", "deployment-with-sidecars.yaml",
             'prometheus.io/port: "8081"', 'prometheus.io/port: "9113"', "prometheus"),
    Breakage("TOML syntax error", "native-sidecar.yaml",
             "[sources.app_logs]\n", "[sources.app_logs\n", "toml"),
    Breakage("TOML key typo", "job-with-sentinel.yaml",
             'inputs = ["parse_json"]', 'inptus = ["parse_json"]', "skiff", needs_skiff=True),
    Breakage("unknown transform type", "log-adapter.yaml",
             'type = "parse_regex"', 'type = "parse_regexp"', "skiff", needs_skiff=True),
    Breakage("POD_NAME no longer set", "log-adapter.yaml",
             "        - name: POD_NAME\n          valueFrom:\n            fieldRef:\n"
             "              fieldPath: metadata.name\n", "", "env"),
    Breakage("Job sidecar without exit_on_file", "job-with-sentinel.yaml",
             'exit_on_file = "/var/log/app/.done"', '# exit_on_file removed', "sentinel"),
    Breakage("password file not in the projected volume", "elasticsearch-sidecar.yaml",
             "path: secrets/password", "path: secrets/passwd", "mounts"),
    Breakage("data_dir not mounted", "log-adapter.yaml",
             "        - name: skiff-data\n          mountPath: /var/lib/skiff\n", "", "mounts"),
    Breakage("writable root filesystem", "native-sidecar.yaml",
             "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "security"),
    Breakage("privilege escalation allowed", "deployment-with-sidecars.yaml",
             "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "security"),
    Breakage("emptyDir without sizeLimit", "logging-sidecar.yaml",
             "      emptyDir:\n        sizeLimit: 64Mi\n", "      emptyDir: {}\n", "security"),
    Breakage("shutdown_timeout longer than the grace period", "elasticsearch-sidecar.yaml",
             'shutdown_timeout = "20s"', 'shutdown_timeout = "45s"', "shutdown"),
    Breakage("manifest left out of kustomization.yaml", "kustomization.yaml",
             "  - log-adapter.yaml\n", "", "kustomize"),
]


def run_self_test(args) -> int:
    src = Path(args.manifests).resolve()
    script = Path(args.script).resolve()
    common = ["--config-dir", args.config_dir]
    common += ["--skip-skiff"] if args.skip_skiff else ["--skiff-bin", args.skiff_bin]
    passed, failed, skipped = 0, 0, 0

    def run(mdir: Path) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(script), "--manifests", str(mdir)] + common,
                              capture_output=True, text=True)

    with tempfile.TemporaryDirectory(prefix="skiff-selftest.") as tmp:
        base = Path(tmp) / "baseline"
        shutil.copytree(src, base)
        r = run(base)
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            print("self-test: the unbroken manifests already fail the check; fix that first")
            return 1
        print("ok    the unbroken copy passes")
        for i, b in enumerate(BREAKAGES):
            if b.needs_skiff and args.skip_skiff:
                print(f"skip  {b.name} (needs skiff validate)")
                skipped += 1
                continue
            case = Path(tmp) / f"case{i:02d}"
            shutil.copytree(src, case)
            f = case / b.file
            text = f.read_text()
            if b.old not in text:
                print(f"FAIL  {b.name}: cannot apply, {b.file} no longer contains {b.old!r}")
                failed += 1
                continue
            f.write_text(text.replace(b.old, b.new, 1))
            r = run(case)
            out = r.stdout + r.stderr
            if r.returncode == 0:
                print(f"FAIL  {b.name}: the check passed on the broken copy")
                failed += 1
            elif f"FAIL [{b.tag}]" not in out:
                print(f"FAIL  {b.name}: the check failed, but not with [{b.tag}]:")
                print("      " + "\n      ".join(l for l in out.splitlines() if l.startswith("FAIL")))
                failed += 1
            else:
                first = next(l for l in out.splitlines() if l.startswith(f"FAIL [{b.tag}]"))
                print(f"ok    {b.name}\n        -> {first}")
                passed += 1
    summary = f"self-test: {passed} passed, {failed} failed"
    print(summary + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("check", "self-test"):
        p = sub.add_parser(name)
        p.add_argument("--manifests", default=str(REPO / "manifests"))
        p.add_argument("--config-dir", default=str(REPO / "config"))
        p.add_argument("--skiff-bin")
        p.add_argument("--skip-skiff", action="store_true")
    chk = sub.choices["check"]
    chk.add_argument("--kubernetes-version", default="1.29.0")
    chk.add_argument("--validator", default="kubernetes-validate",
                     help="command that runs kubernetes-validate")
    chk.add_argument("--image", help=f"expected skiff image (default {IMAGE_REPO}:<Cargo.toml version>)")
    sub.choices["self-test"].add_argument("--script", default=str(REPO / "ci" / "check-manifests.sh"))
    args = ap.parse_args()
    if not args.skip_skiff and not args.skiff_bin:
        ap.error("--skiff-bin is required unless --skip-skiff")
    return run_check(args) if args.cmd == "check" else run_self_test(args)


if __name__ == "__main__":
    sys.exit(main())
