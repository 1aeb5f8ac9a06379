#!/usr/bin/env python3
"""Peak RSS of `plancache serve` while one client streams a 256 MiB chunk
extension at it (issue 9, item 1), with and without the API token, each on a
fresh server. Prints one line per run; asserts nothing (the bound is asserted
by tests/integration/test_http_limits.py).

    /usr/bin/python3 bench/chunk_extension_rss.py --binary build/release/plancache
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import harness  # noqa: E402
import test_http_limits as limits  # noqa: E402

TOKEN = "bench-token"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    harness.BINARY = os.path.abspath(args.binary)
    for token in (TOKEN, None):
        server = harness.Server(["--api-token", TOKEN])
        try:
            pid = server.proc.pid
            before = limits.status_kib(pid, "VmHWM")
            auth = "Authorization: Bearer %s\r\n" % token if token else ""
            head = ("POST /v1/plans HTTP/1.1\r\nHost: t\r\n%sTransfer-Encoding: chunked\r\n\r\nc;"
                    % auth).encode()
            started = time.monotonic()
            res, sent = limits.stream_until_refused(server.port, head, b"e", args.mib << 20)
            after = limits.status_kib(pid, "VmHWM")
            print("%-10s answer %s, %d bytes sent in %.2f s, peak RSS %d KiB -> %d KiB (+%d KiB)"
                  % ("token" if token else "no token", res.status if res else "none", sent,
                     time.monotonic() - started, before, after, after - before))
        finally:
            server.close()


if __name__ == "__main__":
    main()
