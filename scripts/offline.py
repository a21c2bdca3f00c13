"""Writes the page's service worker, dist/offline.js, from www/offline.js: the list of every
file of the built page (which it caches so the page works offline) and a version made from
their contents, so that any change to the page is a new service worker the browser installs.
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
digest = hashlib.sha256()
total = 0
for path in files:
    data = open(os.path.join(dist, path), "rb").read()
    total += len(data)
    digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
version = digest.hexdigest()[:16]
template = open(os.path.join(os.path.dirname(__file__), "..", "www", worker), encoding="utf-8").read()
script = template.replace("__VERSION__", version).replace("__FILES__", json.dumps(["./"] + files))
if version not in script or "__FILES__" in script:
    sys.exit("www/offline.js has no __VERSION__ or __FILES__ to fill")
open(os.path.join(dist, worker), "w", encoding="utf-8").write(script)
print(f"offline.js: version {version}, {len(files)} files, {total / 1e6:.1f} MB")
