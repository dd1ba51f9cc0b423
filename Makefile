# seedpipe: every target installs what is missing first, so a fresh Debian machine needs
# nothing but Swift and this file.
#
#   make demo    the main job: pipelines/waterfall-journey.yaml, offline without SEGMIND_API_KEY
#   make team-demo  two machines on one team cache (nginx) and shared journal (PostgreSQL), on loopback
#   make test    the test suite (what CI runs), the studio's browser tests and the timeline referee included
#   make test-under-load  the same suite with every core kept busy beside it (CI runs it too)
#   make soak SEEDS=20 STEPS=15  the promise test's random walks, long
#   make bench   seedpipe against the ffmpeg program, side by side
#   make asan    the Media tests under AddressSanitizer + LeakSanitizer
#   make docs    DocC documentation of the library products into out/docs/<Product>/
#   make install PREFIX=/usr/local   the release binary, its man page and shell completions
#   make schema  pipelines/pipeline.schema.json, the JSON Schema editors read

SWIFT       ?= swift
BUILD_FLAGS ?=
# Release builds link the Swift runtime statically: each command starts about 10 ms sooner
# (no libswiftCore/Foundation to map and relocate). Every release line uses the same flags,
# or switching between them rebuilds everything.
RELEASE_FLAGS ?= --static-swift-stdlib
DEMO_DIR    ?= out/waterfall-journey
FFMPEG_DEV  := libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev pkg-config

.PHONY: all deps browser timeline servers build release demo team-demo test test-under-load soak bench asan docs schema install uninstall clean

all: build

# FFmpeg's -dev packages when pkg-config cannot find them; the ffmpeg/ffprobe programs as
# the tests' and benchmarks' referee (seedpipe itself never runs them).
deps:
	@if ! pkg-config --exists libavformat libavcodec libavutil libswscale libswresample libavfilter 2>/dev/null \
	   || ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null || [ ! -x /usr/bin/time ]; then \
	  echo "installing FFmpeg libraries and tools with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(FFMPEG_DEV) ffmpeg time >/dev/null; \
	fi

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

release: deps
	$(SWIFT) build -c release $(RELEASE_FLAGS) $(BUILD_FLAGS)

# Only what the demo needs: seedpipe and the loudness-normalize plugin it uses.
demo: deps
	$(SWIFT) build --product seedpipe $(BUILD_FLAGS)
	$(SWIFT) build --product seedpipe-loudness-normalize $(BUILD_FLAGS)
	@bin=$$($(SWIFT) build --show-bin-path)/seedpipe; set -e; \
	echo "\$$ seedpipe plan pipelines/waterfall-journey.yaml"; $$bin plan pipelines/waterfall-journey.yaml; \
	echo "\$$ seedpipe run pipelines/waterfall-journey.yaml --out $(DEMO_DIR)"; $$bin run pipelines/waterfall-journey.yaml --out $(DEMO_DIR); \
	echo "\$$ seedpipe probe $(DEMO_DIR)/film.mp4"; $$bin probe $(DEMO_DIR)/film.mp4; \
	echo "\$$ seedpipe export pipelines/waterfall-journey.yaml --format otio -o $(DEMO_DIR)/film.otio"; \
	$$bin export pipelines/waterfall-journey.yaml --format otio -o $(DEMO_DIR)/film.otio; \
	echo; echo "the film (scored, mastered to -14 LUFS), its captions, poster, run.json, report.html and an"; \
	echo "OpenTimelineIO timeline of its shots (film.otio, media in film-media/) are in $(DEMO_DIR)/"; \
	echo "(offline unless SEGMIND_API_KEY is set; the plugins used are listed by: seedpipe plugins ls);"; \
	echo "run it again: every stage comes from the cache and nothing is generated twice."

# A team on one cache, on this machine: nginx (WebDAV PUT, the remote cache) and PostgreSQL
# (the shared journal) on loopback in a temporary folder, `seedpipe serve` as the service;
# machines a and b (two caches) run the storyboard at once, machine c then gets it all from
# the team. Everything is stopped and removed at the end.
PG_BIN ?= /usr/lib/postgresql/15/bin
team-demo: build servers
	@set -e; bin=$$($(SWIFT) build --show-bin-path)/seedpipe; dir=$$(mktemp -d /tmp/seedpipe-team.XXXXXX); chmod 755 $$dir; \
	free() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }; \
	web=$$(free); db=$$(free); api=$$(free); pids=; \
	trap 'kill $$pids 2>/dev/null; [ -f $$dir/pg/data/postmaster.pid ] && kill -INT $$(head -1 $$dir/pg/data/postmaster.pid) 2>/dev/null; sleep 1; rm -rf $$dir' EXIT; \
	mkdir -p $$dir/store/cache $$dir/temp $$dir/pg; as=; \
	if [ "$$(id -u)" = 0 ]; then chown postgres $$dir/pg; as="runuser -u postgres --"; fi; \
	printf '%s\n' "$$( [ "$$(id -u)" = 0 ] && echo 'user root root;')" 'daemon off; worker_processes 1;' "pid $$dir/nginx.pid;" \
	  "error_log $$dir/nginx.log warn; events { worker_connections 64; }" \
	  "http { access_log off; client_body_temp_path $$dir/temp; server { listen 127.0.0.1:$$web; root $$dir/store;" \
	  'location /cache/ { dav_methods PUT; create_full_put_path on; client_max_body_size 0; } } }' > $$dir/nginx.conf; \
	/usr/sbin/nginx -c $$dir/nginx.conf -p $$dir -e $$dir/nginx.log & pids="$$pids $$!"; \
	$$as $(PG_BIN)/initdb -D $$dir/pg/data --auth=trust -U postgres --no-sync >/dev/null; \
	$$as $(PG_BIN)/postgres -D $$dir/pg/data -p $$db -k $$dir/pg -c listen_addresses=127.0.0.1 >$$dir/pg.log 2>&1 & pids="$$pids $$!"; \
	$$bin serve --port $$api --latency 3 -q & pids="$$pids $$!"; \
	for i in $$(seq 100); do $(PG_BIN)/pg_isready -q -h 127.0.0.1 -p $$db && curl -sf -o /dev/null http://127.0.0.1:$$api/_emulator/stats && break; sleep 0.2; done; \
	export SEGMIND_API_KEY=demo SEEDPIPE_REMOTE_CACHE=http://127.0.0.1:$$web/cache \
	  SEEDPIPE_SHARED_JOURNAL="postgres://postgres@127.0.0.1:$$db/postgres?sslmode=disable"; \
	echo "team cache $$SEEDPIPE_REMOTE_CACHE, shared journal $$SEEDPIPE_SHARED_JOURNAL, service http://127.0.0.1:$$api"; \
	cp -r pipelines plugins $$dir/; rm -rf $$dir/pipelines/.seedpipe; cd $$dir; \
	echo "\$$ machines a and b: seedpipe run pipelines/storyboard.yaml (at once, caches of their own)"; \
	$$bin run pipelines/storyboard.yaml --backend http://127.0.0.1:$$api --cache a --out a-out -q & a=$$!; \
	$$bin run pipelines/storyboard.yaml --backend http://127.0.0.1:$$api --cache b --out b-out -q & b=$$!; \
	wait $$a; wait $$b; \
	echo "the service accepted $$(curl -s http://127.0.0.1:$$api/_emulator/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["submitted"])') submits for 3 shots on 2 machines"; \
	cmp -s a-out/film.mp4 b-out/film.mp4 && echo "a and b have the same film"; \
	echo "\$$ seedpipe jobs"; $$bin jobs; \
	echo "\$$ machine c, an empty cache: seedpipe run pipelines/storyboard.yaml"; \
	$$bin run pipelines/storyboard.yaml --backend http://127.0.0.1:$$api --cache c --out c-out; \
	cmp -s a-out/film.mp4 c-out/film.mp4 && echo "c has the same film, from the team's cache"

# The JSON Schema of pipeline files (the shipped pipelines point their editors at it).
schema: deps
	$(SWIFT) build --product seedpipe $(BUILD_FLAGS)
	$$($(SWIFT) build --show-bin-path)/seedpipe schema pipelines -o pipelines/pipeline.schema.json

# Installs like any command-line tool: the binary (release, unless INSTALL_CONFIG=debug), a
# man page made by swift-argument-parser's generate-manual from the commands' help, bash, zsh
# and fish completions, and the shipped plugins (share/seedpipe/plugins, where seedpipe looks).
PREFIX         ?= /usr/local
INSTALL_CONFIG ?= release
INSTALL_FLAGS  := $(if $(filter release,$(INSTALL_CONFIG)),$(RELEASE_FLAGS))
MANUAL_TOOL    := .build/manual-tool/release/generate-manual
# INSTALL_BIN=DIR installs what is already built there (the tests do, as their own build runs).
INSTALL_BIN    ?=
install: deps
	@if [ -z "$(INSTALL_BIN)" ]; then \
	  $(SWIFT) build -c $(INSTALL_CONFIG) $(INSTALL_FLAGS) --product seedpipe $(BUILD_FLAGS) && \
	  $(SWIFT) build -c $(INSTALL_CONFIG) $(INSTALL_FLAGS) --product seedpipe-loudness-normalize $(BUILD_FLAGS); fi
	@[ -x $(MANUAL_TOOL) ] || $(SWIFT) build -c release --package-path .build/checkouts/swift-argument-parser \
	  --product generate-manual --scratch-path .build/manual-tool
	@set -e; bin=$(INSTALL_BIN); [ -n "$$bin" ] || bin=$$($(SWIFT) build -c $(INSTALL_CONFIG) $(INSTALL_FLAGS) --show-bin-path); \
	share=$(DESTDIR)$(PREFIX)/share; \
	install -d $(DESTDIR)$(PREFIX)/bin $$share/man/man1 $$share/bash-completion/completions $$share/zsh/site-functions \
	  $$share/fish/vendor_completions.d $$share/seedpipe/plugins; \
	install -m 755 $$bin/seedpipe $$bin/seedpipe-loudness-normalize $(DESTDIR)$(PREFIX)/bin/; \
	man=$$(mktemp -d); $(MANUAL_TOOL) $$bin/seedpipe --output-directory $$man; install -m 644 $$man/seedpipe.1 $$share/man/man1/; rm -rf $$man; \
	$$bin/seedpipe --generate-completion-script bash > $$share/bash-completion/completions/seedpipe; \
	$$bin/seedpipe --generate-completion-script zsh > $$share/zsh/site-functions/_seedpipe; \
	$$bin/seedpipe --generate-completion-script fish > $$share/fish/vendor_completions.d/seedpipe.fish; \
	for plugin in plugins/*/; do name=$$(basename $$plugin); rm -rf $$share/seedpipe/plugins/$$name; \
	  mkdir -p $$share/seedpipe/plugins/$$name; cp $$plugin/plugin.yaml $$share/seedpipe/plugins/$$name/; \
	  find $$plugin -maxdepth 1 -type f \( -name '*.py' -o -name 'README.md' \) -exec cp -p {} $$share/seedpipe/plugins/$$name/ \; ; done; \
	echo "installed seedpipe in $(DESTDIR)$(PREFIX)/bin, its man page (man seedpipe), completions for bash, zsh and fish, and the shipped plugins"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/seedpipe $(DESTDIR)$(PREFIX)/bin/seedpipe-loudness-normalize \
	  $(DESTDIR)$(PREFIX)/share/man/man1/seedpipe.1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/seedpipe \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_seedpipe $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/seedpipe.fish
	rm -rf $(DESTDIR)$(PREFIX)/share/seedpipe

# The studio's browser tests: Debian's chromium and chromium-driver, and selenium (PyPI) in
# a virtual environment of the build folder.
BROWSER_VENV ?= .build/browser-venv
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing chromium and chromium-driver with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi
	@if ! $(BROWSER_VENV)/bin/python -c "import selenium" 2>/dev/null; then \
	  echo "installing selenium into $(BROWSER_VENV)"; \
	  python3 -m venv $(BROWSER_VENV) && $(BROWSER_VENV)/bin/pip install -q selenium; \
	fi

# The team cache's servers, which the tests start on loopback in temporary folders and stop:
# nginx (WebDAV PUT: the remote cache) and PostgreSQL 15 (the shared journal). Installed with
# apt-get; a policy-rc.d keeps Debian's scripts from starting them as system services.
servers:
	@if ! [ -x /usr/sbin/nginx ] || ! [ -x /usr/lib/postgresql/15/bin/initdb ]; then \
	  echo "installing nginx and postgresql-15 with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  policy=/usr/sbin/policy-rc.d; made=; \
	  if [ ! -e $$policy ]; then printf '#!/bin/sh\nexit 101\n' | $$SUDO tee $$policy >/dev/null && $$SUDO chmod +x $$policy && made=1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx postgresql-15 >/dev/null; \
	  status=$$?; [ -z "$$made" ] || $$SUDO rm -f $$policy; exit $$status; \
	fi

# The referees of `seedpipe export` and `seedpipe schema`: OpenTimelineIO with its FCPXML and
# CMX 3600 adapters, and jsonschema with PyYAML (PyPI), in a virtual environment of the build folder.
TIMELINE_VENV ?= .build/timeline-venv
timeline:
	@if ! $(TIMELINE_VENV)/bin/python -c "import opentimelineio, otio_fcpx_xml_adapter, otio_cmx3600_adapter, jsonschema, yaml" 2>/dev/null; then \
	  echo "installing OpenTimelineIO and jsonschema into $(TIMELINE_VENV)"; \
	  python3 -m venv $(TIMELINE_VENV) && $(TIMELINE_VENV)/bin/pip install -q opentimelineio otio-fcpx-xml-adapter otio-cmx3600-adapter jsonschema pyyaml; \
	fi

TEST_ENV := SEEDPIPE_BROWSER_PYTHON=$(CURDIR)/$(BROWSER_VENV)/bin/python SEEDPIPE_OTIO_PYTHON=$(CURDIR)/$(TIMELINE_VENV)/bin/python

test: deps browser timeline servers
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(TEST_ENV) $(SWIFT) test --skip-build $(BUILD_FLAGS)

# The same suite with every core kept busy by another process (a plain busy loop per core):
# a test that passes only on a quiet machine fails here. The loops end with the tests.
test-under-load: deps browser timeline servers
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	@set -e; pids=; for core in $$(seq $$(nproc)); do sh -c 'while :; do :; done' & pids="$$pids $$!"; done; \
	trap 'kill $$pids 2>/dev/null' EXIT INT TERM; \
	echo "test-under-load: $$(nproc) busy loops beside the tests"; \
	$(TEST_ENV) $(SWIFT) test --skip-build $(BUILD_FLAGS)

bench: deps servers
	$(SWIFT) build -c release --product seedpipe $(RELEASE_FLAGS) $(BUILD_FLAGS)
	$(SWIFT) build -c release --product seedpipe-bench $(RELEASE_FLAGS) $(BUILD_FLAGS)
	$(SWIFT) build -c release --product seedpipe-loudness-normalize $(RELEASE_FLAGS) $(BUILD_FLAGS)
	@bin=$$($(SWIFT) build -c release $(RELEASE_FLAGS) --show-bin-path); set -e; \
	$$bin/seedpipe-bench media $$bin/seedpipe; \
	$$bin/seedpipe-bench seedance; \
	$$bin/seedpipe-bench pipeline $$bin/seedpipe; \
	$$bin/seedpipe-bench stages $$bin/seedpipe $(CURDIR)/pipelines; \
	$$bin/seedpipe-bench team $$bin/seedpipe; \
	$$bin/seedpipe-bench flaky $$bin/seedpipe

# The promise test's long walks: SEEDS seeds (1…SEEDS) of STEPS steps each (make test runs 3 of 8).
SEEDS ?= 20
STEPS ?= 15
soak: deps timeline
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	SEEDPIPE_WALK_SEEDS=$$(seq -s, 1 $(SEEDS)) SEEDPIPE_WALK_STEPS=$(STEPS) $(TEST_ENV) \
	  $(SWIFT) test --skip-build --filter PromiseWalkTests $(BUILD_FLAGS)

# AddressSanitizer with leak detection over the Media tests (a build folder of its own).
asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan $(BUILD_FLAGS)
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/.ci/lsan.supp \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --filter MediaTests $(BUILD_FLAGS)

# DocC: each library product's catalog (Sources/<Module>/<Module>.docc) as a static site.
DOC_TARGETS := Media SeedanceAPI SeedanceEmulator Pipeline Stages SeedpipeKit PipelineTesting
docs: deps
	@mkdir -p out/docs
	@set -e; for target in $(DOC_TARGETS); do \
	  echo "documentation: $$target -> out/docs/$$target"; \
	  $(SWIFT) package --allow-writing-to-directory out/docs/$$target generate-documentation --target $$target \
	    --disable-indexing --transform-for-static-hosting --output-path out/docs/$$target $(BUILD_FLAGS) >/dev/null; \
	done

clean:
	rm -rf .build .build-asan out
