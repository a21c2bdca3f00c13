"""The corpus's formats no browser can write: writes a real photo (argv[1]) into argv[2] as a
CMYK JPEG (as print workflows save them), an AVIF and a HEIC (an iPhone's photos), printing the
file names. Run by corpus.mjs with the Python environment scripts/setup.sh makes for it
(Pillow, which writes AVIF itself, and the pillow-heif plugin for HEIC)."""
import os
import sys

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()
photo = Image.open(sys.argv[1]).convert("RGB")
for name, image, options in [
    ("print-cmyk.jpg", photo.convert("CMYK"), {"quality": 90}),
    ("phone.avif", photo, {"quality": 80}),
    ("iphone.heic", photo, {"quality": 80}),
]:
    image.save(os.path.join(sys.argv[2], name), **options)
    print(name)
