// The fault-injection proxy's source, written to a temporary file and run with python3 by
// `FaultProxy`. It sits on 127.0.0.1 in front of a real docker-registry and turns it into the
// registry the tests need:
//   - stable upload URLs (docker-registry changes them after every PATCH, like `_state`), and
//     Content-Range enforcement: a PATCH whose first byte is not the session's offset gets 416
//     (docker-registry 2.8 does not check);
//   - faults on the nth request matching method and path: a 5xx without forwarding, a dropped
//     connection before or after forwarding, a blob GET cut in the middle, a corrupted body;
//   - optional Bearer token auth with a /token endpoint checking Basic credentials, tokens
//     that expire after a number of uses, and blob GETs redirected to another host name
//     (localhost) to check that no credentials follow the redirect;
//   - counters at GET /__stats (blob bytes received in upload bodies, requests, faults).
enum FaultProxyScript {
    static let source = #"""
        import base64, http.client, json, os, secrets, signal, socket, sys, threading, urllib.parse
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        # The test runner starts children with signals blocked; make SIGTERM end the proxy.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        CONFIG = json.load(open(sys.argv[1]))
        UPSTREAM = CONFIG["upstream"]
        LOCK = threading.Lock()
        STATS = {"blob_upload_bytes": 0, "patch_bytes": 0, "put_blob_bytes": 0, "manifest_put_bytes": 0,
                 "requests": [], "faults_fired": 0, "auth_on_redirect": 0, "redirected": 0,
                 "range_rejections": 0, "tokens_issued": 0}
        UPLOADS = {}   # uuid -> {"location": upstream URL, "offset": int}
        TOKENS = {}    # token -> {"scopes": set, "uses": int}
        COUNTS = {}
        PORT = [0]

        def fault_for(method, path):
            # Every fault counts its own matching requests, whether or not another one fires.
            fired = None
            for index, f in enumerate(CONFIG.get("faults", [])):
                if f["method"] != method or f.get("path_contains", "") not in path:
                    continue
                with LOCK:
                    COUNTS[index] = COUNTS.get(index, 0) + 1
                    n = COUNTS[index]
                if fired is None and n in f.get("nth", []):
                    fired = f
            if fired is not None:
                with LOCK:
                    STATS["faults_fired"] += 1
            return fired

        def repo_of(path):
            p = path.split("?")[0]
            if not p.startswith("/v2/"):
                return None
            parts = p[4:].split("/")
            for i, part in enumerate(parts):
                if part in ("manifests", "blobs", "tags", "referrers"):
                    return "/".join(parts[:i])
            return None

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def reply(self, status, headers=None, body=b""):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD" and body:
                    self.wfile.write(body)

            def drop(self):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def record(self, status):
                with LOCK:
                    STATS["requests"].append("%s %s %s" % (self.command, self.path.split("?")[0], status))

            def upstream(self, method, target, headers, body):
                conn = http.client.HTTPConnection(UPSTREAM, timeout=60)
                h = {k: v for k, v in headers.items() if k.lower() not in ("host", "authorization", "connection", "transfer-encoding")}
                h["Content-Length"] = str(len(body))
                conn.request(method, target, body=body if body else None, headers=h)
                resp = conn.getresponse()
                data = resp.read()
                out = [(k, v) for k, v in resp.getheaders() if k.lower() not in ("content-length", "connection", "transfer-encoding", "date")]
                conn.close()
                return resp.status, out, data

            def rewrite_location(self, value):
                parsed = urllib.parse.urlsplit(value)
                path = parsed.path
                if "/blobs/uploads/" in path:
                    uuid = path.rstrip("/").split("/")[-1]
                    absolute = value if parsed.scheme else "http://%s%s" % (UPSTREAM, value)
                    with LOCK:
                        entry = UPLOADS.setdefault(uuid, {"offset": 0})
                        entry["location"] = absolute
                    return path
                if parsed.scheme:
                    return path + ("?" + parsed.query if parsed.query else "")
                return value

            def handle_token(self):
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                auth = self.headers.get("Authorization", "")
                ta = CONFIG["token_auth"]
                expected = "Basic " + base64.b64encode(("%s:%s" % (ta["user"], ta["password"])).encode()).decode()
                if auth != expected:
                    self.record(401)
                    return self.reply(401, {"Content-Type": "application/json"}, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                token = secrets.token_hex(16)
                scopes = set()
                for s in q.get("scope", []):
                    kind, name, actions = s.split(":")
                    for a in actions.split(","):
                        scopes.add((name, a))
                with LOCK:
                    TOKENS[token] = {"scopes": scopes, "uses": ta.get("max_uses", 1000000)}
                    STATS["tokens_issued"] += 1
                self.record(200)
                self.reply(200, {"Content-Type": "application/json"}, json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode())

            def check_token(self):
                ta = CONFIG.get("token_auth")
                if not ta:
                    return True
                repo = repo_of(self.path)
                need = "pull" if self.command in ("GET", "HEAD") else "push"
                auth = self.headers.get("Authorization", "")
                ok = False
                if auth.startswith("Bearer "):
                    with LOCK:
                        t = TOKENS.get(auth[7:])
                        if t and t["uses"] > 0 and (repo is None or (repo, need) in t["scopes"]):
                            t["uses"] -= 1
                            ok = True
                if ok:
                    return True
                scope = ',scope="repository:%s:%s"' % (repo, "pull" if need == "pull" else "pull,push") if repo else ""
                challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="fault-proxy"%s' % (PORT[0], scope)
                self.record(401)
                self.reply(401, {"WWW-Authenticate": challenge, "Content-Type": "application/json"},
                           b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
                return False

            def dispatch(self):
                body = self.read_body() if self.command in ("PUT", "POST", "PATCH") else b""
                path = self.path
                if path == "/__stats":
                    with LOCK:
                        data = json.dumps(STATS).encode()
                    return self.reply(200, {"Content-Type": "application/json"}, data)
                if path.startswith("/token"):
                    return self.handle_token()
                redirected = path.startswith("/__redirected/")
                if redirected:
                    with LOCK:
                        STATS["redirected"] += 1
                        if self.headers.get("Authorization"):
                            STATS["auth_on_redirect"] += 1
                    path = path[len("/__redirected"):]
                elif not self.check_token():
                    return

                is_upload = "/blobs/uploads/" in path
                if is_upload and self.command in ("PATCH", "PUT"):
                    with LOCK:
                        STATS["blob_upload_bytes"] += len(body)
                        STATS["patch_bytes" if self.command == "PATCH" else "put_blob_bytes"] += len(body)
                if "/manifests/" in path and self.command == "PUT":
                    with LOCK:
                        STATS["manifest_put_bytes"] += len(body)

                fault = fault_for(self.command, path)
                if fault and fault["action"] == "status":
                    self.record(fault["status"])
                    return self.reply(fault["status"], {"Content-Type": "application/json"},
                                      b'{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}')
                if fault and fault["action"] == "drop_before":
                    self.record("dropped")
                    return self.drop()

                if (CONFIG.get("redirect_blob_gets") and not redirected and self.command == "GET"
                        and "/blobs/sha256:" in path):
                    self.record(307)
                    return self.reply(307, {"Location": "http://localhost:%d/__redirected%s" % (PORT[0], path)})

                target = path
                uuid = None
                if is_upload:
                    split = urllib.parse.urlsplit(path)
                    tail = split.path.rstrip("/").split("/")[-1]
                    if tail != "uploads":
                        uuid = tail
                        with LOCK:
                            entry = UPLOADS.get(uuid)
                        if entry is None:
                            self.record(404)
                            return self.reply(404, {"Content-Type": "application/json"},
                                              b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown"}]}')
                        up = urllib.parse.urlsplit(entry["location"])
                        query = up.query
                        if split.query:
                            query = (query + "&" if query else "") + split.query
                        target = up.path + ("?" + query if query else "")
                        if self.command == "PATCH" and CONFIG.get("enforce_content_range"):
                            cr = self.headers.get("Content-Range", "")
                            try:
                                first, last = [int(x) for x in cr.replace("bytes ", "").split("/")[0].split("-")]
                            except ValueError:
                                first, last = -1, -1
                            if first != entry["offset"] or last - first + 1 != len(body):
                                with LOCK:
                                    STATS["range_rejections"] += 1
                                self.record(416)
                                end = entry["offset"] - 1 if entry["offset"] > 0 else 0
                                return self.reply(416, {"Range": "0-%d" % end, "Location": split.path,
                                                        "Content-Type": "application/json"},
                                                  b'{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"Content-Range does not start at the offset"}]}')

                status, headers, data = self.upstream(self.command, target, dict(self.headers), body)
                out = {}
                for k, v in headers:
                    if k.lower() == "location":
                        v = self.rewrite_location(v)
                    out[k] = v
                if uuid is not None and self.command == "PATCH" and status == 202:
                    with LOCK:
                        UPLOADS[uuid]["offset"] += len(body)
                if uuid is not None and self.command == "PUT" and status == 201:
                    with LOCK:
                        UPLOADS.pop(uuid, None)

                if fault and fault["action"] == "drop_after_forward":
                    self.record("forwarded-then-dropped")
                    return self.drop()
                if fault and fault["action"] == "corrupt_body" and data:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                if fault and fault["action"] == "drop_mid_body" and data:
                    self.record("cut")
                    self.send_response(status)
                    for k, v in out.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    return self.drop()
                self.record(status)
                self.reply(status, out, data)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = dispatch

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        PORT[0] = server.server_address[1]
        print("PORT %d" % PORT[0], flush=True)
        server.serve_forever()
        """#
}
