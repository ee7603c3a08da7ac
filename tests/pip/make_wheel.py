"""make_wheel.py NAME VERSION OUTDIR: writes a pure-Python wheel of a one-module
package by hand (a wheel is a zip: NAME/__init__.py and NAME-VERSION.dist-info/
{METADATA,WHEEL,RECORD}), so the pip test needs no setuptools and no network."""
import base64
import hashlib
import os
import sys
import zipfile


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def main():
    name, version, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                             "Summary: a package of the mfbench pip test\n").encode(),
        f"{info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: mfbench-test\n"
                          b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in files.items())
    record += f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files.items():
            z.writestr(p, d)
    print(path)


if __name__ == "__main__":
    main()
