# vpcroute — see README.md. `make demo` and `make test` are the two set-up
# commands; both install the Debian packages they need when run as root.

GO          ?= go
BIN         ?= bin
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      := $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE  := $(shell TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null)
LDFLAGS     := -X main.buildVersion=$(VERSION) -X main.buildCommit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)
# grpcnotrace keeps grpc's x/net/trace (html/template) out of the binary;
# with it the linker could not drop unused SDK code (README, Install).
TAGS        := grpcnotrace
# make install: the binary in $(PREFIX)/bin, its man pages in
# $(MANDIR)/man8, the unit where systemd looks
# for locally installed ones, the example config only if none exists.
PREFIX      ?= /usr/local
UNITDIR     ?= $(PREFIX)/lib/systemd/system
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc
DESTDIR     ?=
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Debian packages the tests and the demo run for real.
DEB_PACKAGES := docker.io iptables busybox-static iproute2 tcpdump etcd-server systemd curl
# iptables, ip, nsenter and dockerd live in sbin, which some shells leave out.
export PATH := $(PATH):/usr/sbin:/sbin
# Never let an SDK default reach a real cloud or metadata service.
export AWS_EC2_METADATA_DISABLED := true

.PHONY: all build install man release test unit lint deps demo bench mutants faults clean

all: build

# Static and without file system paths, like a release binary (and sharing
# its compiled packages).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/vpcroute ./cmd/vpcroute-sim

install: build man
	install -D -m 0755 $(BIN)/vpcroute $(DESTDIR)$(PREFIX)/bin/vpcroute
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(BIN)/man/man8/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	for u in vpcroute vpcroute-allocate; do \
		sed 's|^ExecStart=/usr/local/bin/vpcroute |ExecStart=$(PREFIX)/bin/vpcroute |' deploy/$$u.service > $(DESTDIR)$(UNITDIR)/$$u.service && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
	done
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/vpcroute/config.yaml ]; then \
		echo "kept $(DESTDIR)$(SYSCONFDIR)/vpcroute/config.yaml"; \
	else \
		install -D -m 0600 deploy/config.example.yaml $(DESTDIR)$(SYSCONFDIR)/vpcroute/config.yaml; \
	fi

# man writes the man pages (section 8) into $(BIN)/man/man8, dated by the
# last commit as in a release. gen-man is built with -tags genman only: the
# agent's binary does not link the man-page libraries (BENCHMARKS.md).
man:
	rm -rf $(BIN)/man/man8
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || date +%s) \
		$(GO) run -tags genman -ldflags "-X main.buildVersion=$(VERSION)" ./cmd/vpcroute gen-man $(BIN)/man/man8

# release builds dist/: tarball and .deb for amd64 and arm64, SHA256SUMS;
# static, stripped and reproducible (cmd/internal/release). It publishes
# nothing. VERSION must be x.y.z: make release VERSION=1.4.0
release:
	$(GO) run ./cmd/internal/release -version $(VERSION) -out dist

# deps installs the Debian packages the real-component tests need. It never
# starts a daemon in the root network namespace: policy-rc.d forbids it.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run as root to install)"; exit 1; fi; \
		made=""; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made=1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; rc=$$?; \
		[ -n "$$made" ] && rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# test runs everything: lint, unit tests, and the tests on real dockerd,
# iptables and network namespaces (root needed), all with the race detector,
# including the vpcroute and vpcroute-sim processes the tests start.
# testsummary prints what go test would, then counts passed, skipped and
# failed tests and names every skipped one; it exits non-zero on a failure.
# With CI=true (.ci/run) a test that cannot run (not root) fails instead.
TESTSUMMARY := $(GO) run ./internal/tools/testsummary -trim github.com/vpcroute/vpcroute/ --
# The second run builds cmd/vpcroute with gen-man (-tags genman, which the
# agent's build leaves out) and runs the tests of the command tree on it.
test: deps lint
	$(TESTSUMMARY) $(GO) test -race -count=1 -timeout 20m -json ./...
	$(TESTSUMMARY) $(GO) test -race -count=1 -tags genman -json -run '$(GENMAN_TESTS)' ./cmd/vpcroute/
GENMAN_TESTS := GenMan|Help|Readme|CommandFlags|Completion

# faults runs the fault suite alone (RELIABILITY.md) with the cloud API
# failing for FAULT_DURATION instead of the 10 s of `make test`.
FAULT_DURATION ?= 2m
faults: deps
	VPCROUTE_FAULT_DURATION=$(FAULT_DURATION) $(TESTSUMMARY) $(GO) test -race -count=1 -timeout 20m -json \
		-run 'TestFault|TestDaemonRebootWhileEtcdIsDown|TestLeaderCutOffFromEtcd|TestDaemonRestoresRulesWhileEtcdIsDown' ./cmd/vpcroute/ ./examples/lab/

# unit is go test -short: pure tests and in-process fakes only. It skips
# everything that needs root, namespaces, dockerd, etcd or the project's own
# processes (internal/testsupport.SkipIfShort), so it is safe anywhere.
unit:
	$(TESTSUMMARY) $(GO) test -race -count=1 -short -json ./...

demo: deps build
	$(GO) run ./examples/lab/demo --bin-dir $(CURDIR)/$(BIN) --provider $(or $(PROVIDER),aliyun)

# bench runs every benchmark, then the EC2 rows at N = 500 and 1 000, which
# run only when the -bench pattern names them (about 5 minutes on their own;
# BENCHMARKS.md, How to run).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) test -run '^$$' -bench '^BenchmarkAWSReconcile$$/^(hosts=500|hosts=1000)$$' -benchmem -timeout 30m ./reconciler/

# bench-plan runs the leader's plan at 1 000 and 10 000 routes 5 times,
# beside the quadratic plan it replaced, and compares them with benchstat.
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
.PHONY: bench-plan
bench-plan:
	@mkdir -p $(BIN)
	$(GO) test -run '^$$' -bench '^BenchmarkPlan' -benchmem -count 5 ./reconciler/ | tee $(BIN)/bench-plan.txt
	$(GO) run $(BENCHSTAT) -col .name $(BIN)/bench-plan.txt

# mutants breaks each safety-critical line listed in
# cmd/internal/mutants/mutants.yaml in a throw-away copy of the tree and
# fails unless the tests notice (or the survivor is accepted with a reason).
mutants:
	$(GO) run ./cmd/internal/mutants

clean:
	rm -rf $(BIN) dist
