#!/usr/bin/env python3
"""A flood of wrong-password sign-ins for P9 (scripts/bench-http).

    sign_in_flood.py BASE_URL SECONDS [CONNECTIONS] [FIRST_ADDRESS]

CONNECTIONS threads (16) post wrong passwords to /login for SECONDS, each attempt from one of
1,000 loopback source addresses (127.1.x.y: every 127.x address is this machine) and for a
different unknown account, so that the per-address and per-account limits refuse as few as
possible and the server has to check (hash) as many passwords as it will. The sign-in form's
CSRF check is a double submit: any value sent both as the cookie and in the form passes.
FIRST_ADDRESS offsets the addresses, so a second run does not reuse throttled ones.

Prints one JSON line: attempts, and how many were answered 401 (checked), 429 (throttled), 503
(busy) or otherwise, and the rate of password checks per second.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

ADDRESSES = 1000


def source_address(n):
    return f"127.1.{n // 250}.{n % 250 + 1}"


def main():
    base = urllib.parse.urlsplit(sys.argv[1])
    seconds = float(sys.argv[2])
    connections = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    deadline = time.monotonic() + seconds
    counts = {}
    lock = threading.Lock()
    attempt = [0]

    def next_attempt():
        with lock:
            attempt[0] += 1
            return attempt[0]

    def flood():
        while time.monotonic() < deadline:
            n = next_attempt()
            body = urllib.parse.urlencode({
                "csrf_token": "flood",
                "email": f"flood{first + n}@flood.example",
                "password": "not the password",
            })
            try:
                conn = http.client.HTTPConnection(
                    base.hostname, base.port, timeout=30,
                    source_address=(source_address((first + n) % ADDRESSES), 0))
                conn.request("POST", "/login", body, {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": "optouts_login_csrf=flood",
                })
                status = conn.getresponse().status
                conn.close()
            except OSError:
                status = "error"
            with lock:
                counts[status] = counts.get(status, 0) + 1

    threads = [threading.Thread(target=flood) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    print(json.dumps({
        "attempts": sum(counts.values()),
        "checked": counts.get(401, 0),
        "throttled": counts.get(429, 0),
        "busy": counts.get(503, 0),
        "other": sum(v for k, v in counts.items() if k not in (401, 429, 503)),
        "checks_per_s": round(counts.get(401, 0) / elapsed, 1),
    }))


if __name__ == "__main__":
    main()
