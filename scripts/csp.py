"""Puts a strict Content-Security-Policy into dist/index.html, as a meta tag (a teacher's static
host adds no headers): only the page's own origin, WebAssembly allowed, and the one inline
bootstrap script trunk writes allowed by its SHA-256 rather than by 'unsafe-inline'.
Run by trunk's post-build hook (trunk.toml), so `trunk build` and `trunk serve` both get it;
prints the policy."""
import base64
import hashlib
import re
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "dist/index.html"
html = open(path, encoding="utf-8").read()
scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
hashes = " ".join(
    "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode() + "'"
    for body in scripts
)
policy = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'wasm-unsafe-eval' {hashes}".strip(),
        "style-src 'self'",
        # Thumbnails, model inputs and views are blob: URLs of images the workers made.
        "img-src 'self' blob: data:",
        "connect-src 'self' blob:",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)
meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}" />'
html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*/>\s*', "", html)
html = html.replace('<meta charset="utf-8" />', '<meta charset="utf-8" />\n    ' + meta, 1)
if meta not in html:
    sys.exit(f"{path}: no <meta charset> to put the policy after")
open(path, "w", encoding="utf-8").write(html)
print(policy)
