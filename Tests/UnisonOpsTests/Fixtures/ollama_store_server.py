#!/usr/bin/env python3
"""A stand-in for the Ollama server's read-only API, answering from a real model store.

The store is Ollama's on-disk layout (what `unisonctl models pull` writes):
    <store>/manifests/<host>/<namespace>/<model>/<tag>   manifest JSON
    <store>/blobs/sha256-<hex>                           config and layers
Like Ollama, every request rereads the store: a model is listed by its shortest name
(model:tag for registry.ollama.ai/library), its digest is the SHA-256 of the manifest
file's bytes (hex, no prefix) and its size the sum of the config and layer sizes.

Usage: ollama_store_server.py STORE READY_FILE [--start-after SECONDS] [--chunked]
       [--version V]
Binds 127.0.0.1 on a free port and writes {"port": N} to READY_FILE once the port is
reserved; with --start-after the port refuses connections until that many seconds passed.
"""
import hashlib, json, os, signal, socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The Swift test runner's threads block signals, and children inherit the mask.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

DEFAULT_HOST, DEFAULT_NAMESPACE = "registry.ollama.ai", "library"


def list_models(store):
    out = []
    root = os.path.join(store, "manifests")
    if not os.path.isdir(root):
        return out
    for host in sorted(os.listdir(root)):
        for ns in sorted(os.listdir(os.path.join(root, host))):
            for model in sorted(os.listdir(os.path.join(root, host, ns))):
                for tag in sorted(os.listdir(os.path.join(root, host, ns, model))):
                    path = os.path.join(root, host, ns, model, tag)
                    if not os.path.isfile(path):
                        continue
                    with open(path, "rb") as f:
                        data = f.read()
                    try:
                        manifest = json.loads(data)
                    except ValueError:
                        continue  # Ollama skips manifests it cannot parse
                    size = sum(int(d.get("size", 0)) for d in [manifest.get("config", {})] + manifest.get("layers", []))
                    if host == DEFAULT_HOST:
                        name = f"{model}:{tag}" if ns == DEFAULT_NAMESPACE else f"{ns}/{model}:{tag}"
                    else:
                        name = f"{host}/{ns}/{model}:{tag}"
                    out.append({"name": name, "model": name, "digest": hashlib.sha256(data).hexdigest(),
                                "size": size, "modified_at": "2024-01-01T00:00:00Z",
                                "details": {"format": "gguf"}})
    return out


def main():
    store, ready = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    start_after = float(args[args.index("--start-after") + 1]) if "--start-after" in args else 0.0
    chunked = "--chunked" in args
    version = args[args.index("--version") + 1] if "--version" in args else "0.5.7"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, obj, chunk=False):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            if chunk:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(body), 7):
                    part = body[i:i + 7]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            self.close_connection = True

        def do_GET(self):
            if self.path == "/api/version":
                self.reply(200, {"version": version})
            elif self.path == "/api/tags":
                self.reply(200, {"models": list_models(store)}, chunk=chunked)
            else:
                self.reply(404, {"error": "not found"})

    # Reserve the port first; it refuses connections (no listen) until the server starts.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    with open(ready + ".tmp", "w") as f:
        json.dump({"port": port}, f)
    os.rename(ready + ".tmp", ready)
    time.sleep(start_after)
    holder.close()
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
