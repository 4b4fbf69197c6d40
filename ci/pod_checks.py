#!/usr/bin/env python3
"""Play skiff's example pods under `podman kube play` and check what they ship.

ci/run-pods.sh sets the machine up (images, containers.conf, a private podman
storage, the Elasticsearch test server binary) and runs this once per
manifest. For each one it:

  1. rewrites a temporary copy where podman 4.3 lacks a Kubernetes feature,
     the way the kubelet would provide it, and prints every rewrite:
     projected, downwardAPI and secret volumes become host directories with
     the same files, modes and group (fsGroup); the metadata.namespace,
     spec.nodeName and status.podIP field references and secretKeyRefs become
     literal values; a Job becomes the Pod its template describes; emptyDir
     volumes get the pod's name in theirs (podman names them without it, so
     two pods would share one); every containerPort gets a free hostPort
     (podman publishes them on the host); the Elasticsearch address points at
     the test server on the host (host.containers.internal);
  2. plays it, waits for skiff's /ready through the published port and for
     the app's first lines;
  3. a long-running pod: stops the app, appends a burst of numbered lines to
     its log file and at once stops the pod with its grace period; skiff must
     drain them and exit 0 by itself. A Job: waits for the pod to complete
     through the sentinel file, every container exiting 0;
  4. compares what arrived (the test server's documents, or skiff's stdout)
     with every line in the log files on the emptyDir: the same lines, each
     exactly once, and on Elasticsearch no id written twice.

native-sidecar.yaml cannot run: podman 4.3 does not know init containers with
restartPolicy Always and `kube play` waits forever; it is reported as skipped.
Exit status: 0 all played pods passed, 1 a check failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SKIFF_IMAGE = "ghcr.io/skiff-logs/skiff:0.1.0"
HOST_ALIAS = "host.containers.internal"
BURST_LINES = 1000
POD_NAMESPACE = "default"


class CheckFailed(Exception):
    """A pod did not behave: the message says how."""


class Unsupported(Exception):
    """The manifest needs something podman cannot emulate: skip it, loudly."""


def say(msg: str) -> None:
    print(f"    {msg}", flush=True)


# --- what each example's app writes and what skiff makes of it --------------


@dataclass
class Plan:
    """How to read one example: the app's lines and the events skiff emits."""

    sink: str  # "es" or "stdout"
    line_format: str  # "plain", "json" or "ts-level-msg"
    log_file: str  # the file the app appends to, inside the log volume
    kind: str = "service"  # "service" (stopped by the script) or "job"
    enriched: bool = True  # the kubernetes transform runs (pod metadata on events)

    def line_key(self, line: str):
        """What identifies one line written by the app, as skiff ships it."""
        if self.line_format == "json":
            return json.loads(line)["message"]
        if self.line_format == "ts-level-msg":
            ts, level, msg = line.split(" ", 2)
            return (ts, level, msg)
        return line

    def event_key(self, event: dict):
        if self.line_format == "ts-level-msg":
            return (event["timestamp"][:19], event["level"], event["message"])
        return event["message"]

    def burst_line(self, i: int) -> str:
        now = time.gmtime()
        if self.line_format == "json":
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", now)
            return json.dumps(
                {"timestamp": f"{ts}.000", "level": "info", "message": f"drain burst {i}"},
                separators=(",", ":"),
            )
        if self.line_format == "ts-level-msg":
            return f"{time.strftime('%Y-%m-%dT%H:%M:%S', now)} INFO drain burst {i}"
        return f"{time.strftime('%a %b %d %H:%M:%S UTC %Y', now)} - drain burst {i}"


PLANS = {
    "logging-sidecar.yaml": Plan("es", "plain", "application.log"),
    "log-adapter.yaml": Plan("stdout", "ts-level-msg", "application.log", enriched=False),
    "elasticsearch-sidecar.yaml": Plan("es", "json", "application.log"),
    # myapp:1.0.0 is the stand-in image of images/app-stand-in: JSON lines.
    "deployment-with-sidecars.yaml": Plan("es", "json", "app.log"),
    "job-with-sentinel.yaml": Plan("es", "json", "job.log", kind="job"),
}
SKIPPED = {
    "native-sidecar.yaml": "podman 4.3 has no native sidecars (an init container with "
    "restartPolicy: Always): kube play waits forever for it to exit",
}


# --- the rewrite --------------------------------------------------------------


@dataclass
class Env:
    """What the rewrite fills in: the values the kubelet would know."""

    work: Path
    pod_ip: str
    node_name: str
    es_port: int | None
    secrets: dict  # name -> {key: value}
    notes: list = field(default_factory=list)
    host_ports: dict = field(default_factory=dict)  # (container, port) -> host port

    def note(self, msg: str) -> None:
        self.notes.append(msg)
        say(f"rewrite: {msg}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def load_secrets(manifests: Path) -> dict:
    out = {}
    for path in sorted(manifests.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Secret":
                out[doc["metadata"]["name"]] = dict(doc.get("stringData") or {})
    return out


def kubelet_quote(value: str) -> str:
    # The Downward API writes key="value" with Go's %q; JSON's escaping is the
    # same for the printable text these examples use.
    return json.dumps(value, ensure_ascii=False)


def write_file(path: Path, text: str, mode: int, gid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chown(path.parent, 0, gid)
    path.parent.chmod(0o755)
    path.write_text(text)
    os.chown(path, 0, gid)
    path.chmod(mode)


def rewrite(docs: list, env: Env) -> tuple[list, dict]:
    """The temp copy podman plays, and the pod's facts (name, spec, labels)."""
    configmaps = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d.get("kind") == "ConfigMap"}
    out = []
    pod = None
    for doc in docs:
        kind = doc.get("kind")
        if kind in ("ConfigMap",):
            out.append(doc)
            continue
        if kind == "Pod":
            name, meta, spec = doc["metadata"]["name"], doc["metadata"], doc["spec"]
        elif kind == "Deployment":
            replicas = doc["spec"].get("replicas", 1)
            if replicas != 1:
                doc["spec"]["replicas"] = 1
                env.note(f"Deployment {doc['metadata']['name']}: replicas {replicas} -> 1 (podman plays one pod)")
            name, meta, spec = doc["metadata"]["name"], doc["spec"]["template"]["metadata"], doc["spec"]["template"]["spec"]
        elif kind == "Job":
            name = doc["metadata"]["name"]
            tmpl = doc["spec"]["template"]
            labels = dict(tmpl.get("metadata", {}).get("labels") or {})
            labels.update({"batch.kubernetes.io/job-name": name, "job-name": name})
            doc = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "labels": labels, "annotations": dict(tmpl.get("metadata", {}).get("annotations") or {})},
                "spec": tmpl["spec"],
            }
            env.note(
                f"Job {name} -> Pod {name} from its template (podman has no Jobs), restartPolicy "
                f"{tmpl['spec'].get('restartPolicy')}, with the job-name labels the Job controller adds"
            )
            meta, spec = doc["metadata"], doc["spec"]
        else:
            raise Unsupported(f"kind {kind} is not played here")
        if pod is not None:
            raise Unsupported("more than one workload in one manifest")
        for c in spec.get("initContainers") or []:
            if c.get("restartPolicy") == "Always":
                raise Unsupported(SKIPPED["native-sidecar.yaml"])
        rewrite_pod(name, meta, spec, configmaps, env)
        pod = {"name": name, "kind": kind, "labels": meta.get("labels") or {}, "spec": spec}
        out.append(doc)
    if pod is None:
        raise Unsupported("no Pod, Deployment or Job in the manifest")
    return out, pod


def rewrite_pod(pod: str, meta: dict, spec: dict, configmaps: dict, env: Env) -> None:
    fs_group = (spec.get("securityContext") or {}).get("fsGroup", 0)
    containers = (spec.get("initContainers") or []) + spec["containers"]
    renamed = {}
    for vol in spec.get("volumes") or []:
        vname = vol["name"]
        vdir = env.work / "volumes" / vname
        if "emptyDir" in vol:
            new = f"{pod}-{vname}"
            renamed[vname] = new
            vol["name"] = new
            env.note(f"emptyDir {vname} -> volume {new} (podman names emptyDir volumes without the pod's name)")
            continue
        files = []  # (relative path, text, mode)
        if "projected" in vol:
            default_mode = vol["projected"].get("defaultMode", 0o644)
            for src in vol["projected"]["sources"]:
                if "configMap" in src:
                    files += configmap_files(src["configMap"], configmaps, default_mode)
                elif "secret" in src:
                    files += secret_files(src["secret"], env.secrets, default_mode)
                elif "downwardAPI" in src:
                    files += downward_files(src["downwardAPI"], meta, default_mode)
                else:
                    raise Unsupported(f"projected source {list(src)} in volume {vname}")
            what = "projected"
        elif "downwardAPI" in vol:
            files = downward_files(vol["downwardAPI"], meta, vol["downwardAPI"].get("defaultMode", 0o644))
            what = "downwardAPI"
        elif "secret" in vol:
            sec = dict(vol["secret"])
            sec["name"] = sec.pop("secretName")
            files = secret_files(sec, env.secrets, sec.get("defaultMode", 0o644))
            what = "secret"
        else:
            continue  # configMap, hostPath, PVC: podman plays them
        for rel, text, mode in files:
            write_file(vdir / rel, text, mode, fs_group)
        os.chown(vdir, 0, fs_group)
        vdir.chmod(0o755)
        vol.clear()
        vol.update({"name": vname, "hostPath": {"path": str(vdir), "type": "Directory"}})
        listing = ", ".join(f"{rel} {mode:04o}" for rel, _, mode in files)
        env.note(f"{what} volume {vname} -> host directory {vdir} (root:{fs_group}): {listing}")
    for c in containers:
        for m in c.get("volumeMounts") or []:
            if m["name"] in renamed:
                m["name"] = renamed[m["name"]]
        rewrite_env(c, env)
        for p in c.get("ports") or []:
            if "hostPort" not in p:
                hp = free_port()
                p["hostPort"] = hp
                env.host_ports[(c["name"], p["containerPort"])] = hp
                env.note(f"{c['name']}: containerPort {p['containerPort']} published on free host port {hp}")


def configmap_files(ref: dict, configmaps: dict, default_mode: int) -> list:
    data = configmaps.get(ref["name"])
    if data is None:
        raise Unsupported(f"ConfigMap {ref['name']} is not in the manifest")
    items = ref.get("items") or [{"key": k, "path": k} for k in sorted(data)]
    return [(i["path"], data[i["key"]], i.get("mode", default_mode)) for i in items]


def secret_files(ref: dict, secrets: dict, default_mode: int) -> list:
    data = secrets.get(ref["name"])
    if data is None:
        raise Unsupported(f"Secret {ref['name']} is not in manifests/")
    items = ref.get("items") or [{"key": k, "path": k} for k in sorted(data)]
    return [(i["path"], data[i["key"]], i.get("mode", default_mode)) for i in items]


def downward_files(ref: dict, meta: dict, default_mode: int) -> list:
    out = []
    for item in ref["items"]:
        fp = item["fieldRef"]["fieldPath"]
        if fp in ("metadata.labels", "metadata.annotations"):
            values = meta.get(fp.split(".")[1]) or {}
            text = "".join(f"{k}={kubelet_quote(str(values[k]))}\n" for k in sorted(values))
        elif fp == "metadata.name":
            text = meta["name"]
        elif fp == "metadata.namespace":
            text = POD_NAMESPACE
        else:
            raise Unsupported(f"downwardAPI field {fp}")
        out.append((item["path"], text, item.get("mode", default_mode)))
    return out


def rewrite_env(c: dict, env: Env) -> None:
    for e in c.get("env") or []:
        src = e.get("valueFrom")
        if src and "fieldRef" in src:
            fp = src["fieldRef"]["fieldPath"]
            literal = {"metadata.namespace": POD_NAMESPACE, "spec.nodeName": env.node_name, "status.podIP": env.pod_ip}.get(fp)
            if literal is not None:
                e.pop("valueFrom")
                e["value"] = literal
                env.note(f"{c['name']}: env {e['name']} fieldRef {fp} -> literal {literal!r}")
        elif src and "secretKeyRef" in src:
            ref = src["secretKeyRef"]
            value = env.secrets.get(ref["name"], {}).get(ref["key"])
            if value is None:
                raise Unsupported(f"Secret {ref['name']} key {ref['key']} is not in manifests/")
            e.pop("valueFrom")
            e["value"] = value
            env.note(f"{c['name']}: env {e['name']} secretKeyRef {ref['name']}/{ref['key']} -> literal")
        elif e["name"] == "ELASTICSEARCH_HOST" and env.es_port is not None:
            env.note(f"{c['name']}: env ELASTICSEARCH_HOST {e.get('value')!r} -> {HOST_ALIAS!r} (the test server)")
            e["value"] = HOST_ALIAS
        elif e["name"] == "ELASTICSEARCH_PORT" and env.es_port is not None:
            env.note(f"{c['name']}: env ELASTICSEARCH_PORT {e.get('value')!r} -> '{env.es_port}'")
            e["value"] = str(env.es_port)


# --- podman and the test server ---------------------------------------------


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise CheckFailed(f"podman {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def wait_until(what: str, cond, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class TestServer:
    """examples/es_test_server on the host, for one pod; dumps its documents on stop."""

    def __init__(self, binary: str, work: Path, auth: tuple[str, str] | None):
        self.dump = work / "es-docs.ndjson"
        self.err = work / "es-server.err"
        args = [binary, "--addr", "0.0.0.0:0", "--dump", str(self.dump)]
        if auth:
            args += ["--basic-auth", f"{auth[0]}:{auth[1]}"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(self.err, "w"), text=True)
        first = self.proc.stdout.readline().strip()
        if not first:
            raise CheckFailed(f"test server did not start: {self.err.read_text()}")
        self.port = int(first.rsplit(":", 1)[1])

    def stop(self) -> list:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        if self.proc.returncode != 0 or not self.dump.exists():
            raise CheckFailed(f"test server failed: {self.err.read_text()}")
        say(f"test server: {self.err.read_text().strip()}")
        return [json.loads(line) for line in self.dump.read_text().splitlines() if line.strip()]


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except Exception:  # noqa: BLE001 - any failure is "not yet"
        return 0


def volume_dir(name: str) -> Path:
    return Path(podman("volume", "inspect", "--format", "{{.Mountpoint}}", name).stdout.strip())


def read_lines(log_dir: Path) -> list:
    lines = []
    for f in sorted(log_dir.glob("*.log")):
        lines += [ln for ln in f.read_text().split("\n") if ln]
    return lines


def container_state(name: str) -> tuple[str, int]:
    out = podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name).stdout.split()
    return out[0], int(out[1])


# --- one manifest -------------------------------------------------------------


def play_one(manifest: Path, args) -> bool:
    """Play one manifest; False when it holds no pod (a Secret, kustomization)."""
    docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    if not any(isinstance(d, dict) and d.get("kind") in ("Pod", "Deployment", "Job") for d in docs):
        say("no Pod, Deployment or Job in it: nothing to play")
        return False
    plan = PLANS.get(manifest.name)
    if plan is None:
        raise Unsupported(SKIPPED.get(manifest.name, "no plan for this manifest in ci/pod_checks.py"))
    work = Path(args.work) / manifest.stem
    shutil.rmtree(work, ignore_errors=True)
    (work / "volumes").mkdir(parents=True)
    work.chmod(0o755)
    (work / "volumes").chmod(0o755)
    secrets = load_secrets(manifest.parent)

    auth = None
    cred = secrets.get("elasticsearch-credentials")
    if plan.sink == "es" and cred:
        auth = (cred["username"], cred["password"])
    server = TestServer(args.es_server, work, auth) if plan.sink == "es" else None
    env = Env(work, args.pod_ip, socket.gethostname(), server.port if server else None, secrets)
    try:
        played, pod = rewrite(docs, env)
        kube = work / manifest.name
        kube.write_text(yaml.safe_dump_all(played, sort_keys=False))
        run_pod(plan, pod, kube, env, server, args)
        return True
    except CheckFailed:
        diagnose(server)
        raise
    finally:
        if server and server.proc.poll() is None:
            server.proc.kill()
        podman("kube", "down", str(work / manifest.name), check=False)


def diagnose(server: TestServer | None) -> None:
    """What helps to read a failure: the test server's view, skiff's data_dir."""
    if server and server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=30)
        say(f"test server: {server.err.read_text().strip()}")
        if server.dump.exists():
            say(f"test server: {len(server.dump.read_text().splitlines())} documents, kept in {server.dump}")
    for name in podman("volume", "ls", "--format", "{{.Name}}", check=False).stdout.split():
        if name.endswith("skiff-data"):
            d = volume_dir(name)
            for f in sorted(d.rglob("*")):
                if f.is_file():
                    say(f"data_dir: {f.relative_to(d)} ({f.stat().st_size} bytes)")


def run_pod(plan: Plan, pod: dict, kube: Path, env: Env, server: TestServer | None, args) -> None:
    started = time.monotonic()
    podman("kube", "play", "--network", args.network, "--ip", env.pod_ip, str(kube))
    # A Pod or Job keeps its name; podman names a Deployment's pod after it.
    pods = podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    if len(pods) != 1:
        raise CheckFailed(f"expected one pod, podman runs {pods}")
    pod_name = pods[0]
    skiff = next(c for c in pod["spec"]["containers"] if c["image"] == SKIFF_IMAGE)
    app = next(c for c in pod["spec"]["containers"] if c["name"] == "app")
    skiff_ctr, app_ctr = f"{pod_name}-{skiff['name']}", f"{pod_name}-{app['name']}"
    log_mount = next(m for m in app["volumeMounts"] if m["mountPath"] == "/var/log/app")
    log_dir = volume_dir(log_mount["name"])
    api = env.host_ports[(skiff["name"], 8081)]
    say(f"pod {pod_name}: skiff as {skiff_ctr}, API on 127.0.0.1:{api}, app logs in {log_dir}")

    wait_until("skiff's /ready", lambda: http_status(f"http://127.0.0.1:{api}/ready") == 200, 60)
    say(f"/ready and /health answer 200 after {time.monotonic() - started:.1f}s")
    if http_status(f"http://127.0.0.1:{api}/health") != 200:
        raise CheckFailed("/health does not answer 200")
    check_security(skiff_ctr)

    if plan.kind == "job":
        wait_until(f"pod {pod_name} to complete", lambda: podman("pod", "inspect", "--format", "{{.State}}", pod_name).stdout.strip() == "Exited", 120, 0.5)
        for c in pod["spec"]["containers"]:
            state, code = container_state(f"{pod_name}-{c['name']}")
            if code != 0:
                raise CheckFailed(f"{c['name']} exited {code} ({state})")
        if not (log_dir / ".done").exists():
            raise CheckFailed("the app did not leave the sentinel file")
        say(f"Job pod completed through the sentinel file after {time.monotonic() - started:.1f}s; every container exited 0")
    else:
        wait_until("the app's first lines", lambda: len(read_lines(log_dir)) >= 1, 30)
        # The app first, as a native sidecar would see it; a busybox shell as
        # PID 1 ignores SIGTERM, so after 2 s it is killed, as the kubelet would
        # after the grace period.
        podman("stop", "-t", "2", app_ctr)
        with open(log_dir / plan.log_file, "a") as f:
            f.write("".join(plan.burst_line(i) + "\n" for i in range(1, BURST_LINES + 1)))
        grace = int(pod["spec"].get("terminationGracePeriodSeconds", 30))
        # The kubelet sends SIGTERM to every container at once and stops the
        # pod's sandbox (its network) only once they have exited. `podman pod
        # stop` stops the infra container alongside them and so takes the
        # network away from skiff while it drains: its last bulk request hangs
        # until shutdown_timeout. So: the containers first, as the kubelet does.
        others = [f"{pod_name}-{c['name']}" for c in pod["spec"]["containers"] if c["name"] != app["name"]]
        t0 = time.monotonic()
        podman("stop", "-t", str(grace), *others, timeout=grace + 30)
        took = time.monotonic() - t0
        state, code = container_state(skiff_ctr)
        if code != 0:
            raise CheckFailed(f"skiff exited {code} on SIGTERM ({state}); its log:\n{podman('logs', skiff_ctr, check=False).stderr}")
        say(f"{BURST_LINES} lines appended, then podman stop -t {grace} {' '.join(others)}: "
            f"skiff drained and exited 0 in {took:.1f}s")

    lines = read_lines(log_dir)
    if plan.sink == "es":
        docs = server.stop()
        dups = [d for d in docs if d["writes"] > 1]
        if dups:
            raise CheckFailed(f"{len(dups)} ids written more than once, e.g. {dups[0]}")
        events = [d["source"] for d in docs]
    else:
        out = podman("logs", skiff_ctr).stdout
        events = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    compare(plan, lines, events)
    if plan.enriched:
        check_enrichment(events[0], pod_name, pod, env)
    say(f"arrived exactly once: {len(events)} of {len(lines)} lines ({'Elasticsearch' if plan.sink == 'es' else 'stdout'}); "
        f"pod run {time.monotonic() - started:.1f}s")


def check_security(ctr: str) -> None:
    fmt = "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}"
    user, ro = podman("inspect", "--format", fmt, ctr).stdout.split()
    if not user.startswith("65532") or ro != "true":
        raise CheckFailed(f"skiff runs as {user!r}, read-only root {ro}: want 65532 and true")
    say(f"skiff runs as {user} with a read-only root filesystem")


def compare(plan: Plan, lines: list, events: list) -> None:
    want = collections.Counter(plan.line_key(ln) for ln in lines)
    got = collections.Counter(plan.event_key(ev) for ev in events)
    missing, extra = want - got, got - want
    if missing or extra:
        raise CheckFailed(
            f"{len(lines)} lines written, {len(events)} events arrived; missing {sum(missing.values())} "
            f"(e.g. {list(missing)[:3]}), extra or duplicated {sum(extra.values())} (e.g. {list(extra)[:3]})"
        )


def check_enrichment(event: dict, pod_name: str, pod: dict, env: Env) -> None:
    k = event.get("kubernetes") or {}
    want = {"pod_name": pod_name, "namespace": POD_NAMESPACE, "node_name": env.node_name, "pod_ip": env.pod_ip}
    wrong = {key: k.get(key) for key, v in want.items() if k.get(key) != v}
    labels = k.get("labels") or {}
    wrong.update({f"labels.{key}": labels.get(key) for key, v in pod["labels"].items() if labels.get(key) != v})
    if wrong:
        raise CheckFailed(f"pod metadata on the events is wrong: {wrong} (event: {event})")
    say(f"events carry the pod's metadata: {json.dumps(k, sort_keys=True)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifests", nargs="+", type=Path)
    ap.add_argument("--es-server", required=True, help="examples/es_test_server binary")
    ap.add_argument("--work", required=True, help="scratch directory (volumes, rewritten copies)")
    ap.add_argument("--network", required=True, help="podman network to play the pods on")
    ap.add_argument("--pod-ip", required=True, help="static IP for the pod on that network")
    args = ap.parse_args()
    failed, skipped, passed = [], [], []
    for manifest in args.manifests:
        print(f"==> {manifest.name}", flush=True)
        t0 = time.monotonic()
        try:
            if play_one(manifest, args):
                passed.append(f"{manifest.name} ({time.monotonic() - t0:.1f}s)")
        except Unsupported as e:
            print(f"    SKIPPED: {e}", flush=True)
            skipped.append(manifest.name)
        except (CheckFailed, subprocess.TimeoutExpired) as e:
            print(f"    FAIL: {e}", file=sys.stderr, flush=True)
            failed.append(manifest.name)
    print(f"==> pods passed: {', '.join(passed) or 'none'}")
    if skipped:
        print(f"==> pods skipped: {', '.join(skipped)}")
    if failed:
        print(f"==> pods FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
