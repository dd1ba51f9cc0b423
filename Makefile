# seedpipe: every target installs what is missing first, so a fresh Debian machine needs
# nothing but Swift and this file.
#
#   make demo    the main job (for now: the media commands on a generated clip)
#   make test    the test suite (what CI runs)
#   make bench   seedpipe against the ffmpeg program, side by side
#   make asan    the Media tests under AddressSanitizer + LeakSanitizer

SWIFT       ?= swift
BUILD_FLAGS ?=
DEMO_DIR    ?= out/demo
FFMPEG_DEV  := libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev pkg-config

.PHONY: all deps build release demo test bench asan clean

all: build

# FFmpeg's -dev packages when pkg-config cannot find them; the ffmpeg/ffprobe programs as
# the tests' and benchmarks' referee (seedpipe itself never runs them).
deps:
	@if ! pkg-config --exists libavformat libavcodec libavutil libswscale libswresample 2>/dev/null \
	   || ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null || [ ! -x /usr/bin/time ]; then \
	  echo "installing FFmpeg libraries and tools with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(FFMPEG_DEV) ffmpeg time >/dev/null; \
	fi

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

release: deps
	$(SWIFT) build -c release $(BUILD_FLAGS)

demo: build
	@mkdir -p $(DEMO_DIR)
	@bin=$$($(SWIFT) build --show-bin-path)/seedpipe; set -e; cd $(DEMO_DIR); \
	run() { echo "\$$ seedpipe $$*"; $$bin "$$@"; }; \
	run generate --prompt "Shot 1: a moss-covered tropical waterfall at dawn, mist rising. The camera slowly pushes in." \
	    --duration 5 --return-last-frame -o shot1.mp4; \
	run generate --prompt "Shot 2: the same waterfall in midday light; the camera tilts up the falls." \
	    --first-frame shot1-last.png --duration 5 -o shot2.mp4; \
	run concat shot1.mp4 shot2.mp4 -o film.mp4; \
	run probe film.mp4; \
	run audio-check film.mp4 --min-loudness -30; \
	run thumbnail film.mp4 --at 2.5 --width 640 -o poster.jpg; \
	echo; echo "demo output in $(DEMO_DIR)/: film.mp4, poster.jpg (offline unless SEGMIND_API_KEY is set)"

test: deps
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)

bench: deps
	$(SWIFT) build -c release --product seedpipe $(BUILD_FLAGS)
	$(SWIFT) build -c release --product seedpipe-bench $(BUILD_FLAGS)
	$$($(SWIFT) build -c release --show-bin-path)/seedpipe-bench media $$($(SWIFT) build -c release --show-bin-path)/seedpipe
	$$($(SWIFT) build -c release --show-bin-path)/seedpipe-bench seedance
	$$($(SWIFT) build -c release --show-bin-path)/seedpipe-bench pipeline $$($(SWIFT) build -c release --show-bin-path)/seedpipe

# AddressSanitizer with leak detection over the Media tests (a build folder of its own).
asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan $(BUILD_FLAGS)
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/.ci/lsan.supp \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --filter MediaTests $(BUILD_FLAGS)

clean:
	rm -rf .build .build-asan out
