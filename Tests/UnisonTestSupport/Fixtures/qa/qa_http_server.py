#!/usr/bin/env python3
"""A small HTTP/1.1 service for the qa smoke/e2e tests, on 127.0.0.1 only.

Prints "READY <port>" on stdout once it listens. Routes:
  GET  /health              200 "ok"
  GET  /status/<code>       <code> with body "status <code>"
  GET  /slow/<seconds>      waits, then 200 "slow"
  GET  /json                200 {"data": {"version": "1.2.3"}}
  GET  /chunked             200, body "alpha-beta-gamma" sent in three chunks
  GET  /flaky/<key>/<n>     503 for the first <n> requests per key, then 200 "recovered"
  GET  /weird               200 with XML-hostile bytes in the body (<, &, quotes, NUL, ESC)
  GET  /big/<n>             200 with <n> bytes of "x"
  GET  /raw/<case>          hand-written wire bytes, then close: garbage, empty, close-delimited,
                            interim (100 Continue first), short (fewer bytes than Content-Length),
                            trailer (chunked with a trailer field)
  HEAD /health              200 with Content-Length 2 and no body
  POST /echo                200, the request body back; X-Request-Content-Type names its type
  POST /v1/intents          200 {"ok": true, "echo": <body>} for a JSON object with "text"
                            sent as application/json; 415 for another type, 400 for bad JSON
  anything else             404
Options: --port N (0 picks one), --delay SECONDS (sleep before listening).
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {}
RAW = {
    "garbage": b"NOT HTTP AT ALL\r\n",
    "empty": b"",
    "close-delimited": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
    "interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
    "short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    "trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 1\r\n\r\n",
}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the tests read results, not logs
        pass

    def send(self, code, body, content_type="text/plain; charset=utf-8", extra=None):
        data = body if isinstance(body, bytes) else body.encode()
        if code in (204, 304):
            data = b""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts == ["health"]:
            self.send(200, "ok")
        elif len(parts) == 2 and parts[0] == "status":
            self.send(int(parts[1]), "status " + parts[1])
        elif len(parts) == 2 and parts[0] == "slow":
            time.sleep(float(parts[1]))
            self.send(200, "slow")
        elif parts == ["json"]:
            self.send(200, json.dumps({"data": {"version": "1.2.3"}}), "application/json")
        elif parts == ["chunked"]:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"alpha-", b"beta-", b"gamma"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif len(parts) == 3 and parts[0] == "flaky":
            with LOCK:
                COUNTS[parts[1]] = COUNTS.get(parts[1], 0) + 1
                seen = COUNTS[parts[1]]
            if seen <= int(parts[2]):
                self.send(503, "starting (%d)" % seen)
            else:
                self.send(200, "recovered after %d" % (seen - 1))
        elif len(parts) == 2 and parts[0] == "big":
            self.send(200, b"x" * int(parts[1]))
        elif len(parts) == 2 and parts[0] == "raw" and parts[1] in RAW:
            self.wfile.write(RAW[parts[1]])
            self.wfile.flush()
            self.close_connection = True
        elif parts == ["weird"]:
            self.send(200, b"<b>&amp; \"quoted\" 'single' \x00nul \x1b[31mred\x1b[0m ]]> end")
        else:
            self.send(404, "no route " + self.path)

    def do_HEAD(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        ctype = self.headers.get("Content-Type", "")
        path = self.path.split("?")[0]
        if path == "/echo":
            self.send(200, body, "application/octet-stream", {"X-Request-Content-Type": ctype or "none"})
        elif path == "/v1/intents":
            if ctype.split(";")[0].strip() != "application/json":
                self.send(415, "want application/json, got " + (ctype or "none"))
                return
            try:
                doc = json.loads(body)
            except ValueError:
                self.send(400, "bad json")
                return
            if not isinstance(doc, dict) or "text" not in doc:
                self.send(400, "missing text")
                return
            self.send(200, json.dumps({"ok": True, "echo": doc}), "application/json")
        else:
            self.send(404, "no route " + self.path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0)
    args = parser.parse_args()
    if args.delay:
        time.sleep(args.delay)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("READY %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
