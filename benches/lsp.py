#!/usr/bin/env python3
"""Times `kith lsp` re-linting after one-line edits of a generated clan.

    benches/lsp.py [KITH_BINARY]      (default: target/dist/kith of this checkout)

Env: N (fleet size, default 1000), RUNS (edits per file, default 10), SEED (default 1).

A fleet of N machines is generated (benches/gen-fleet.py) in a temporary directory, the
server is started on it over stdio (clan-core and nixpkgs overridden to ../shared/corpus,
as the other benchmarks do, the cache in an empty directory), `inventory.json` and
`clan.nix` are opened and the first diagnostics awaited. Then, RUNS times for each file,
one line is changed in the open buffer (`didChange`, incremental: a machine's port in
`inventory.json`, a machine's description in `clan.nix`; unsaved, as while typing) and the
time until the first `publishDiagnostics` that follows is taken: the server lints the clan
before it publishes anything. Prints the median and best per file, and a cold
`kith lint --no-cache` of the same fleet for comparison.
"""

import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def die(msg):
    print(f"lsp.py: {msg}", file=sys.stderr)
    sys.exit(1)


class Server:
    """A language server over stdio, its messages read by a thread into a queue."""

    def __init__(self, argv, env):
        self.p = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self.q = queue.Queue()
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.p.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.q.put((time.perf_counter(), json.loads(out.read(length))))

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        i = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        while True:
            _, m = self.wait()
            if m.get("id") == i:
                return m

    def wait(self, timeout=120):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            die("no answer from the server")

    def until_diagnostics(self, quiet=0.05):
        """The time of the next publishDiagnostics, then drains what follows until
        nothing has come for `quiet` seconds."""
        while True:
            t, m = self.wait()
            if m.get("method") == "textDocument/publishDiagnostics":
                break
        while True:
            try:
                self.q.get(timeout=quiet)
            except queue.Empty:
                return t

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.p.wait(timeout=10)
        except Exception:
            self.p.kill()


def position(text, offset):
    line = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    return {"line": line, "character": len(text[offset - col : offset].encode("utf-16-le")) // 2}


def edit(server, uri, text, start, end, new, version):
    """Replaces text[start:end] by `new` in the open buffer; the new text."""
    server.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [
                {
                    "range": {"start": position(text, start), "end": position(text, end)},
                    "text": new,
                }
            ],
        },
    )
    return text[:start] + new + text[end:]


def main():
    kith = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/dist/kith"))
    if not os.access(kith, os.X_OK):
        die(f"no kith binary at {kith} (cargo build --profile dist -p kith)")
    n = int(os.environ.get("N", "1000"))
    runs = int(os.environ.get("RUNS", "10"))
    corpus = os.path.join(SHARED, "corpus")
    if not os.path.isdir(corpus):
        die("no ../shared/corpus next to the repo")
    work = tempfile.mkdtemp(prefix="kith-lsp-bench-")
    try:
        fleet = os.path.join(work, "fleet")
        subprocess.run(
            [sys.executable, os.path.join(ROOT, "benches/gen-fleet.py"), str(n), fleet,
             "--seed", os.environ.get("SEED", "1")],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
        overrides = {
            "clan-core": os.path.join(corpus, "clan-core"),
            "nixpkgs": os.path.join(corpus, "nixpkgs-lib"),
        }
        # A cold lint of the same fleet, for comparison.
        cold = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(
                [kith, "lint", "--flake", fleet, "--no-cache", "--format", "json"]
                + [a for k, v in overrides.items() for a in ("--override-input", k, v)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            cold.append((time.perf_counter() - t) * 1000)
        s = Server([kith, "lsp"], env)
        root_uri = "file://" + fleet
        s.request("initialize", {
            "processId": None,
            "rootUri": root_uri,
            "capabilities": {},
            "initializationOptions": {"overrideInputs": overrides},
        })
        s.notify("initialized", {})
        texts = {}
        for name in ["inventory.json", "clan.nix"]:
            with open(os.path.join(fleet, name)) as f:
                texts[name] = f.read()
            s.notify("textDocument/didOpen", {"textDocument": {
                "uri": f"{root_uri}/{name}", "languageId": "json" if name.endswith("json") else "nix",
                "version": 1, "text": texts[name]}})
        # Each opened document may start a lint of its own: wait until they are all done.
        s.until_diagnostics(quiet=3)
        results = {}
        version = 1
        for name, pattern in [
            ("inventory.json", r'"port": (\d+)'),
            ("clan.nix", r'description = "([^"]*)"'),
        ]:
            times = []
            for r in range(runs):
                m = re.search(pattern, texts[name])
                if not m:
                    die(f"nothing to edit in {name}")
                new = str(4000 + r) if name.endswith("json") else f"edited {r}"
                version += 1
                t0 = time.perf_counter()
                texts[name] = edit(s, f"{root_uri}/{name}", texts[name], m.start(1), m.end(1), new, version)
                times.append((s.until_diagnostics() - t0) * 1000)
            results[name] = times
        s.close()
        print(f"kith lsp re-lint after a one-line unsaved edit, {n} machines ({runs} edits each, ms):")
        print(f"{'file':<16} {'median':>8} {'best':>8}")
        for name, times in results.items():
            print(f"{name:<16} {statistics.median(times):8.0f} {min(times):8.0f}")
        print(f"{'cold kith lint':<16} {statistics.median(cold):8.0f} {min(cold):8.0f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
