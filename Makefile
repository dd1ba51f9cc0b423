# seedpipe: every target installs what is missing first, so a fresh Debian machine needs
# nothing but Swift and this file.
#
#   make demo    the main job: pipelines/waterfall-journey.yaml, offline without SEGMIND_API_KEY
#   make team-demo  two machines on one team cache (nginx) and shared journal (PostgreSQL), on loopback
#   make test    the test suite (what CI runs), the studio's browser tests and the timeline referee included
#   make bench   seedpipe against the ffmpeg program, side by side
#   make asan    the Media tests under AddressSanitizer + LeakSanitizer
#   make docs    DocC documentation of the library products into out/docs/<Product>/

SWIFT       ?= swift
BUILD_FLAGS ?=
# Release builds link the Swift runtime statically: each command starts about 10 ms sooner
# (no libswiftCore/Foundation to map and relocate). Every release line uses the same flags,
# or switching between them rebuilds everything.
RELEASE_FLAGS ?= --static-swift-stdlib
DEMO_DIR    ?= out/waterfall-journey
FFMPEG_DEV  := libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev pkg-config

.PHONY: all deps browser timeline servers build release demo team-demo test bench asan docs clean

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

demo: build
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

# The referee of `seedpipe export`: OpenTimelineIO with its FCPXML and CMX 3600 adapters
# (PyPI) in a virtual environment of the build folder.
TIMELINE_VENV ?= .build/timeline-venv
timeline:
	@if ! $(TIMELINE_VENV)/bin/python -c "import opentimelineio, otio_fcpx_xml_adapter, otio_cmx3600_adapter" 2>/dev/null; then \
	  echo "installing OpenTimelineIO into $(TIMELINE_VENV)"; \
	  python3 -m venv $(TIMELINE_VENV) && $(TIMELINE_VENV)/bin/pip install -q opentimelineio otio-fcpx-xml-adapter otio-cmx3600-adapter; \
	fi

test: deps browser timeline servers
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	SEEDPIPE_BROWSER_PYTHON=$(CURDIR)/$(BROWSER_VENV)/bin/python SEEDPIPE_OTIO_PYTHON=$(CURDIR)/$(TIMELINE_VENV)/bin/python \
	  $(SWIFT) test --skip-build $(BUILD_FLAGS)

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
