"""Writes the page's service worker, dist/offline.js, from www/offline.js: the list of every
file of the built page (which it caches so the page works offline) and a version made from
their contents, so that any change to the page is a new service worker the browser installs.
The WebGPU build of the model worker is listed apart: it is cached only when a page whose first
worker uses it asks (only where a GPU is used), never downloaded for the offline copy alone.
Run by trunk's post-build hook (trunk.toml) after csp.py, which changes index.html; prints the
version, the file count and their bytes."""
import hashlib
import json
import os
import sys

dist = sys.argv[1] if len(sys.argv) > 1 else "dist"
worker = "offline.js"
files = sorted(
    os.path.relpath(os.path.join(root, name), dist).replace(os.sep, "/")
    for root, _, names in os.walk(dist)
    for name in names
    if not (root == dist and name == worker)
)
template = open(os.path.join(os.path.dirname(__file__), "..", "www", worker), encoding="utf-8").read()
digest = hashlib.sha256(template.encode())
total = 0
for path in files:
    data = open(os.path.join(dist, path), "rb").read()
    total += len(data)
    digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
version = digest.hexdigest()[:16]
on_demand = [path for path in files if path.startswith("headstart-worker-webgpu")]
files = [path for path in files if path not in on_demand]

script = (
    template.replace("__VERSION__", version)
    .replace("__FILES__", json.dumps(["./"] + files))
    .replace("__ON_DEMAND__", json.dumps(on_demand))
)
if version not in script or "__FILES__" in script or "__ON_DEMAND__" in script or len(on_demand) != 2:
    sys.exit("www/offline.js has no __VERSION__, __FILES__ or __ON_DEMAND__ to fill, or the WebGPU worker build is missing")
open(os.path.join(dist, worker), "w", encoding="utf-8").write(script)
print(f"offline.js: version {version}, {len(files)} files and {len(on_demand)} on demand, {total / 1e6:.1f} MB in all")
