#!/usr/bin/env python3
"""md1.py - the SLO capacity of an M/D/1 queue, computed on its own (no mfbench
code): the highest Poisson arrival rate whose 99th-percentile sojourn time
(wait + service S) is within the bound B. Simulated by Lindley's recursion
W(n+1) = max(0, W(n) + S - A(n+1)) over many customers with a fixed seed, then
bisected on the rate. usage: md1.py S_MS B_MS  ->  prints the rate in req/s."""
import math
import random
import sys


def p99_sojourn(rate, s, n=400_000, seed=7):
    rnd = random.Random(seed)
    w = 0.0
    soj = []
    for _ in range(n):
        a = rnd.expovariate(rate)
        w = max(0.0, w + s - a)
        soj.append(w + s)
    soj = soj[n // 10:]  # the first tenth is the queue filling from empty
    soj.sort()
    return soj[int(math.ceil(0.99 * len(soj))) - 1]


def capacity(s, b):
    lo, hi = 0.01 / s, 0.9999 / s  # rho from 1% to just under 1
    for _ in range(30):
        mid = (lo + hi) / 2
        if p99_sojourn(mid, s) <= b:
            lo = mid
        else:
            hi = mid
    return lo


if __name__ == "__main__":
    s_ms, b_ms = float(sys.argv[1]), float(sys.argv[2])
    print(f"{capacity(s_ms / 1000, b_ms / 1000):.1f}")
