#!/usr/bin/env bash
# Builds the test stack's two OCI images from Debian's busybox-static and pushes them to a
# registry: unisontest/http:1 (busybox httpd serving /health and /readyz) and
# unisontest/ollama-standin:1 (the same base layer plus /api/version and /api/tags, as Ollama
# answers them). Usage: scripts/test-stack-images.sh WORKDIR REGISTRY_HOST:PORT
set -euo pipefail
work=$1 registry=$2
busybox=$(command -v busybox)
file -L "$busybox" | grep -q 'statically linked' || { echo "busybox at $busybox is not static (apt-get install busybox-static)" >&2; exit 2; }
rm -rf "$work" && mkdir -p "$work/base/bin" "$work/base/www" "$work/base/tmp" "$work/ollama/www/api"
cp "$busybox" "$work/base/bin/busybox"
for a in sh wget httpd cat; do ln -s busybox "$work/base/bin/$a"; done
echo ok >"$work/base/www/health"; echo ok >"$work/base/www/readyz"
printf '{"version":"0.0.0-standin"}' >"$work/ollama/www/api/version"
printf '{"models":[]}' >"$work/ollama/www/api/tags"
python3 - "$work" <<'PY'
import gzip, hashlib, io, json, os, subprocess, sys
work = sys.argv[1]
def layer(name):
    raw = subprocess.run(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                          "-C", os.path.join(work, name), "-cf", "-", "."], check=True, capture_output=True).stdout
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g: g.write(raw)
    return raw, buf.getvalue()
def blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(layout, "blobs/sha256"), exist_ok=True)
    open(os.path.join(layout, "blobs/sha256", d), "wb").write(data)
    return "sha256:" + d
for image, layers in [("http", ["base"]), ("ollama-standin", ["base", "ollama"])]:
    layout = os.path.join(work, "layout-" + image)
    descs, diffs = [], []
    for l in layers:
        raw, gz = layer(l)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(layout, gz), "size": len(gz)})
        diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Entrypoint": ["/bin/busybox"], "Cmd": ["httpd", "-f", "-p", "8080", "-h", "/www"]},
                         "rootfs": {"type": "layers", "diff_ids": diffs}}, sort_keys=True).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(layout, config), "size": len(config)},
                           "layers": descs}, sort_keys=True).encode()
    md = blob(layout, manifest)
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
               "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "1"}}]}, open(os.path.join(layout, "index.json"), "w"))
    open(os.path.join(layout, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
for image in http ollama-standin; do
  skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout-$image:1" "docker://$registry/unisontest/$image:1"
done
