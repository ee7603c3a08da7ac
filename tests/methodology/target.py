"""Known-answer HTTP targets for the breaking-point search (tests/methodology).

  target.py --port P --mode kconn --k K        at most K connections at once; later ones are
                                               reset (RST) once no slot frees within 0.2 s
  target.py --port P --mode aconn --k K [--slow-after S --slow-ms M]
                                               kconn on one asyncio loop (thousands of
                                               connections without a thread each); each
                                               request waits M ms more while it holds more
                                               than S connections (a cost per connection:
                                               it fails on latency first)
  target.py --port P --mode rate --rate R      at most R responses in each second (a fixed
                                               window); other requests are never answered
  target.py --port P --mode fork --mb A --child-mb B
                                               forks one worker (same process group) holding
                                               B MiB; the server itself holds A MiB
  target.py --port P --mode hangafter --n N    answers the first N requests (over all
                                               connections), then never answers again
  target.py --port P --mode spew --n N         answers each connection's first request with
                                               N responses at once, then answers nothing
  target.py --port P --mode exitafter --n N    answers N requests, then the process exits

Worst behaviour, with any mode (tests/methodology/test_worst_bound.sh):
  --listen-after S    listen only S seconds after the start (near the readiness timeout)
  --ignore-term       ignore SIGTERM: a stop waits its grace, then SIGKILL
  --stray FILE        fork a child that leaves the process group (setsid) and ignores
                      SIGTERM too (the stop waits its grace again for the strays); its
                      pid is appended to FILE

Every mode answers GET with "Hello World!" (text/plain) over HTTP/1.1 keep-alive,
after --delay-ms (default 0): a few ms keep a think-0 client far from client bound.
Standard library only; one thread per connection (aconn: one asyncio loop).
"""
import argparse
import asyncio
import os
import signal
import socket
import struct
import sys
import threading
import time

BODY = b"Hello World!"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


class Window:
    """At most `rate` answers in each wall-clock second (a fixed window, so users
    that send in step are judged by their count per second, not their bursts)."""

    def __init__(self, rate):
        self.rate = int(rate)
        self.second = -1
        self.count = 0
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            now = int(time.monotonic())
            if now != self.second:
                self.second, self.count = now, 0
            if self.count < self.rate:
                self.count += 1
                return True
            return False


class Counter:
    """The first n requests over all connections are answered (hangafter, exitafter)."""

    def __init__(self, n):
        self.n = n
        self.seen = 0
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            self.seen += 1
            return self.seen <= self.n


def serve_conn(conn, bucket, release, delay, mode="", count=None, n=0):
    buf = b""
    first = True
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b"\r\n\r\n" in buf:
                _, buf = buf.split(b"\r\n\r\n", 1)
                if mode == "spew":
                    if first:
                        conn.sendall(RESPONSE * n)  # one asked for, n - 1 nobody asked for
                    first = False
                    continue
                if count is not None and not count.take():
                    if mode == "exitafter":
                        os._exit(0)
                    continue  # hangafter: never answered
                if bucket is None or bucket.take():
                    if delay:
                        time.sleep(delay)
                    conn.sendall(RESPONSE)
                # else: never answered; the client times out and closes.
    except OSError:
        pass
    finally:
        conn.close()
        if release:
            release()


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def touch(mb):
    block = bytearray(mb << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    return block


async def serve_async(a):
    """aconn: at most a.k connections at once on one loop; a later one waits
    0.2 s for a slot, then is reset. Each request waits a.delay_ms, and
    a.slow_ms more while more than a.slow_after connections are held."""
    active = 0
    slot = asyncio.Condition()

    async def handle(reader, writer):
        nonlocal active
        async with slot:
            try:
                await asyncio.wait_for(slot.wait_for(lambda: active < a.k), 0.2)
            except asyncio.TimeoutError:
                writer.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            active += 1
        buf = b""
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                buf += data
                while b"\r\n\r\n" in buf:
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    wait = a.delay_ms + (a.slow_ms if active > a.slow_after else 0)
                    if wait:
                        await asyncio.sleep(wait / 1000.0)
                    writer.write(RESPONSE)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            async with slot:
                active -= 1
                slot.notify()

    server = await asyncio.start_server(handle, a.host, a.port, backlog=4096, reuse_address=True)
    async with server:
        await server.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["kconn", "aconn", "rate", "fork", "hangafter", "spew", "exitafter"],
                    required=True)
    ap.add_argument("--n", type=int, default=3)
    ap.add_argument("--k", type=int, default=12)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--mb", type=int, default=0)
    ap.add_argument("--child-mb", type=int, default=0)
    ap.add_argument("--delay-ms", type=float, default=0)
    ap.add_argument("--listen-after", type=float, default=0)
    ap.add_argument("--ignore-term", action="store_true")
    ap.add_argument("--stray", default="")
    ap.add_argument("--slow-after", type=int, default=0)
    ap.add_argument("--slow-ms", type=float, default=0)
    a = ap.parse_args()
    if a.mode == "aconn":
        return asyncio.run(serve_async(a))

    if a.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if a.stray:
        pid = os.fork()
        if pid == 0:  # leaves the group; SIGTERM ignored
            os.setsid()
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                time.sleep(3600)
        with open(a.stray, "a") as f:
            f.write("%d\n" % pid)
    if a.listen_after > 0:
        time.sleep(a.listen_after)

    keep = []
    if a.mode == "fork":
        pid = os.fork()
        if pid == 0:  # the worker: holds its memory until the group is stopped
            keep.append(touch(a.child_mb))
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            while True:
                time.sleep(3600)
        keep.append(touch(a.mb))

    # the family follows the host: "::1" binds IPv6, "127.0.0.1" IPv4
    ls = socket.socket(socket.AF_INET6 if ":" in a.host else socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(4096)
    bucket = Window(a.rate) if a.mode == "rate" else None
    count = Counter(a.n) if a.mode in ("hangafter", "exitafter") else None
    slots = threading.Condition()
    active = [0]

    def release():
        with slots:
            active[0] -= 1
            slots.notify()

    while True:
        conn, _ = ls.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rel = None
        if a.mode == "kconn":
            with slots:
                # A client's previous connection may still be closing: wait a little.
                deadline = time.monotonic() + 0.2
                while active[0] >= a.k and time.monotonic() < deadline:
                    slots.wait(deadline - time.monotonic())
                if active[0] >= a.k:
                    reset(conn)
                    continue
                active[0] += 1
            rel = release
        threading.Thread(target=serve_conn, args=(conn, bucket, rel, a.delay_ms / 1000.0, a.mode, count, a.n),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
