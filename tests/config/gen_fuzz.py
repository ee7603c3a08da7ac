#!/usr/bin/env python3
"""Writes the fuzz/ corpus once: the repository's matrix.yaml and a richer sample,
truncated at many points and mutated byte-wise with a fixed seed. The files are
committed; test_config_fuzz replays them. Usage: gen_fuzz.py MATRIX.yaml OUTDIR"""
import os
import random
import sys

RICH = b"""version: 1
node: {transport: ssh, host: 10.0.0.2, user: bench, identity: ~/.ssh/id, port: 2222, cpus: 0-1}
load: {cpus: "2"}
defaults:
  think: {pacing: 1s}
  users: {start: 1, step: 1, max: 3}
  stop_when: {failures: 3, ratio: 0.5, p99: 2s}
  refine: 10%
  repeats: auto
  rate: 100
payloads:
  a: &p {path: /a, length: 10}
  b: *p
  c: {path: /c, body: "x\\u00e9\\0y"}
frameworks:
  f1: {server: gunicorn, workers: 2, duration: 9s, warmup: 0}
  f2: {start: "{python} x", dir: ./d, app: x}
profiles:
  p: {think: 1s, users: {max: 2}}
"""

def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(20261128)
    seeds = [open(src, 'rb').read(), RICH]
    n = 0
    def put(data):
        nonlocal n
        with open(os.path.join(out, 'case%03d.yaml' % n), 'wb') as f:
            f.write(data)
        n += 1
    for s in seeds:
        put(s)
        for _ in range(10):  # truncations
            put(s[:rnd.randrange(len(s))])
        for _ in range(14):  # byte mutations
            b = bytearray(s)
            for _ in range(rnd.randrange(1, 6)):
                i = rnd.randrange(len(b))
                op = rnd.randrange(4)
                if op == 0:
                    b[i] = rnd.choice(b'{}[]:,&*!|>-\'"#\t\n 0\x00\xff')
                elif op == 1:
                    del b[i]
                elif op == 2:
                    b[i:i] = b[i:i + rnd.randrange(1, 40)]
                else:
                    b[i] = rnd.randrange(256)
            put(bytes(b))
        lines = s.split(b'\n')
        for _ in range(5):  # line shuffles and duplications
            ls = lines[:]
            i, j = rnd.randrange(len(ls)), rnd.randrange(len(ls))
            ls[i], ls[j] = ls[j], ls[i]
            ls.insert(rnd.randrange(len(ls)), ls[rnd.randrange(len(ls))])
            put(b'\n'.join(ls))
    put(b'')
    put(b'\xef\xbb\xbf')
    put(b'[' * 5000)
    put(b'a: &a [*a]\nversion: 1\n')
    put(b'version: 1\n' + b'payloads: {' + b','.join(b'p%d: {path: /x, length: 1}' % i for i in range(1500)) + b'}\n')

if __name__ == '__main__':
    main()
