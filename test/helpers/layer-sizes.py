#!/usr/bin/env python3
"""Independent check for the space analysis: the bytes each layer of an image archive ships.

Usage: layer-sizes.py IMAGE.tar[.gz]  ->  JSON list, one number per layer in manifest order:
the sum of the sizes of the layer tar's regular-file entries (hardlinks add nothing).

Reads docker-save (manifest.json) and OCI layouts (index.json -> manifest), gzip- and
zstd-compressed layers (zstd through the `zstd` command), with Python's own tarfile module:
nothing of Strata's is used.
"""
import gzip
import io
import json
import subprocess
import sys
import tarfile


def members(outer):
    return {m.name.lstrip("./") if m.name.startswith("./") else m.name: m for m in outer.getmembers()}


def read(outer, names, name):
    m = names[name]
    while m.issym():  # docker-save layers may be symlinks to other layers
        target = m.linkname
        base = name.rsplit("/", 1)[0] if "/" in name else ""
        parts = []
        for p in (base + "/" + target if base else target).split("/"):
            if p == "..":
                parts.pop()
            elif p and p != ".":
                parts.append(p)
        name = "/".join(parts)
        m = names[name]
    return outer.extractfile(m).read()


def layer_blobs(outer, names):
    if "manifest.json" in names:
        manifest = json.loads(read(outer, names, "manifest.json"))
        if manifest:
            return [read(outer, names, p) for p in manifest[0]["Layers"]]
    index = json.loads(read(outer, names, "index.json"))
    desc = index["manifests"][0]
    while True:
        doc = json.loads(read(outer, names, "blobs/" + desc["digest"].replace(":", "/")))
        if "layers" in doc:
            return [read(outer, names, "blobs/" + l["digest"].replace(":", "/")) for l in doc["layers"]]
        desc = doc["manifests"][0]


def decompress(blob):
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return subprocess.run(["zstd", "-dc"], input=blob, capture_output=True, check=True).stdout
    return blob


def shipped(layer):
    total = 0
    with tarfile.open(fileobj=io.BytesIO(decompress(layer)), mode="r:") as t:
        for m in t:
            if m.isreg():
                total += m.size
    return total


def main():
    data = open(sys.argv[1], "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as outer:
        names = members(outer)
        print(json.dumps([shipped(l) for l in layer_blobs(outer, names)]))


main()
