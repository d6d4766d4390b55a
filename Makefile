# UnisonOS release artifacts. On a fresh Debian 12 machine `make image-wsl` builds the WSL
# distribution from unison.yaml: the Debian base (cached outside the repository by
# scripts/build-base.sh), unisonctl as a release build with the Swift standard library linked
# statically (it runs on a base without a Swift runtime), then the image into $(OUT).
#
#   make image-wsl [OUT=dist] [VERSION=x.y.z]   WSL: unisonos-wsl2-<v>.tar.gz and .wsl
#   make image-vm  [OUT=dist] [VERSION=x.y.z]   VM disks (qcow2, vmdk)
#   make image-iso [OUT=dist] [VERSION=x.y.z] [PAYLOAD=disk.qcow2]   hybrid BIOS+UEFI installer ISO
#   make images    [OUT=dist] [VERSION=x.y.z]   all three in one run (image build all)
#   make test [TIER=unit|interop|boot]           every test tier, or one (scripts/test.sh)
#   make bench-tar                               our .tar.gz against tar | gzip -6 and pigz
#   make bench-disk                              our VM disks against mke2fs -d + qemu-img convert
#   make bench-push                              our registry push against skopeo copy, and a re-push
#   make bench-build                             image build all (wsl, vm, iso) against the 60 s goal
#   make bench-binary / make bench               binary size and start-up / every benchmark (issue 17)
#
# SOURCE_DATE_EPOCH fixes every timestamp: the same inputs give the same bytes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

OUT ?= dist
VERSION ?=
# The binary the images carry: scripts/unisonctl-release.sh builds it as scripts/build.sh does.
UNISONCTL = $(shell scripts/unisonctl-release.sh --path)
VERSION_FLAG = $(if $(VERSION),--version $(VERSION),)

.PHONY: help setup base unisonctl image-wsl image-vm image-iso images test bench-tar bench-disk bench-push bench-binary bench-build bench

help:
	@sed -n '1,17p' Makefile | sed 's/^# \{0,1\}//'

setup:
	scripts/setup.sh

base:
	scripts/build-base.sh

unisonctl:
	scripts/unisonctl-release.sh >/dev/null

image-wsl: unisonctl base
	"$(UNISONCTL)" image build wsl --out "$(OUT)" --unisonctl-binary "$(UNISONCTL)" $(VERSION_FLAG)

image-vm: unisonctl base
	"$(UNISONCTL)" image build vm --out "$(OUT)" --unisonctl-binary "$(UNISONCTL)" $(VERSION_FLAG)

image-iso: unisonctl base
	"$(UNISONCTL)" image build iso --out "$(OUT)" $(VERSION_FLAG) $(if $(PAYLOAD),--payload "$(PAYLOAD)",--unisonctl-binary "$(UNISONCTL)")

# All three in one run: the base read once, the ISO carrying the VM disk of the same run.
images: unisonctl base
	"$(UNISONCTL)" image build all --targets wsl,vm,iso --out "$(OUT)" --unisonctl-binary "$(UNISONCTL)" $(VERSION_FLAG)

test:
	scripts/test.sh $(if $(TIER),--tier $(TIER),)

bench-tar: unisonctl base
	UNISONCTL_BIN="$(UNISONCTL)" scripts/bench-tar.sh

bench-disk: unisonctl base
	UNISONCTL_BIN="$(UNISONCTL)" scripts/bench-disk.sh

bench-push: unisonctl
	UNISONCTL_BIN="$(UNISONCTL)" scripts/bench-push.sh

bench-binary:
	scripts/bench-binary.sh

bench-build: unisonctl base
	UNISONCTL_BIN="$(UNISONCTL)" scripts/bench-build.sh

bench: bench-tar bench-disk bench-push bench-binary bench-build
