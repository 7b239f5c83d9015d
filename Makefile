# sigil - see README.md. `make`, `make run`, `make test`, `make SANITIZE=1 test`.

CC	?= cc
PKGS	 = libevent libevent_openssl libevent_pthreads lmdb libqrencode libpng \
	   jansson openssl zlib freetype2 libmaxminddb
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	   -Wno-missing-field-initializers -Iinclude -MMD -MP -pthread \
	   $(shell pkg-config --cflags freetype2 2>/dev/null || \
	   echo -I/usr/include/freetype2)
LDLIBS	+= -levent -levent_openssl -levent_pthreads -llmdb -lqrencode -lpng \
	   -ljansson -lssl -lcrypto -lz -lfreetype -lmaxminddb -lm -pthread

ifeq ($(SANITIZE),1)
O	?= build/san
BINDIR	?= build/san/bin
CFLAGS	+= -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
else ifeq ($(TSAN),1)
O	?= build/tsan
BINDIR	?= build/tsan/bin
CFLAGS	+= -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=thread
else
O	?= build/rel
BINDIR	?= bin
endif
ifeq ($(FAULT),1)
CFLAGS	+= -DSIGIL_FAULT_INJECTION
endif
# The fault-injection build (include/sigil/fault.h) that `make check` runs
# tests/server/faults.py against; its own directory, since objects do not
# record the flags they were built with.
ifeq ($(SANITIZE),1)
FAULT_O	?= build/fault-san
else
FAULT_O	?= build/fault
endif

SERVER_MAIN = src/sigild.c
LIB_SRCS = $(wildcard src/*/*.c)
LIB_OBJS = $(LIB_SRCS:%.c=$(O)/%.o)
LIB	 = $(O)/libsigil.a
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)

# The dashboard's ECharts and map data (scripts/vendor.lock: pinned
# versions, checked sha512), fetched with curl into web/admin/vendor/
# (not committed); again only when the lock or the script changes.
VENDOR	= web/admin/vendor/.lock

all: $(BINDIR)/sigild $(BINDIR)/sigil $(VENDOR)

$(VENDOR): scripts/vendor.lock scripts/vendor.sh
	@sh scripts/vendor.sh scripts/vendor.lock web/admin/vendor

# The write tracer tests/server/powercut.py preloads into sigild and sigil
# (tests/lib/wtrace.c); built without the sanitizers in either build.
# Under the sanitizers it simulates 8 power cuts per mode instead of 24,
# which keeps CI's sanitizer pass about a minute shorter.
WTRACE	= $(O)/tests/libwtrace.so
ifeq ($(SANITIZE),1)
CUT_POINTS = 8
else
CUT_POINTS = 24
endif

$(WTRACE): tests/lib/wtrace.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=c11 -Wall -Wextra -Werror -fPIC -shared -o $@ $< \
	    -ldl -pthread

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BINDIR)/sigild: $(O)/src/sigild.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/sigil: $(patsubst %.c,$(O)/%.o,$(wildcard tools/*.c)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# `make run` needs only the compiler and libraries (deps.sh run): no
# browser, node or test tools; `make test` needs them all.
deps-run:
	@sh scripts/deps.sh run

deps:
	@sh scripts/deps.sh build browser
	@[ -d tests/browser/node_modules ] || (cd tests/browser && \
	    npm ci --no-audit --no-fund --loglevel=error)

vendor: $(VENDOR)

unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

fault:
	@$(MAKE) --no-print-directory FAULT=1 O=$(FAULT_O) \
	    BINDIR=$(FAULT_O)/bin all

# WAL_TESTS run a second time against sigild --no-wal (LMDB's own syncs,
# without the write-ahead log that is the default): the kill -9 tests and
# the ones where the sigil CLI writes beside a running server.
# NOWAL_PASS=0 leaves that second run out (CI's sanitizer pass does).
WAL_TESTS = server/crash.py server/crash_claims.py server/scan.py \
	    server/brand_api.py server/webhooks.py server/redirects.py

check: all layers unit fault $(WTRACE)
	@BIN=$(abspath $(BINDIR)) FAULT_BIN=$(abspath $(FAULT_O)/bin) \
	    WTRACE=$(abspath $(WTRACE)) POINTS=$(CUT_POINTS) sh tests/run.sh
ifneq ($(NOWAL_PASS),0)
	@echo "-- again against sigild --no-wal: $(WAL_TESTS)"
	@WAL=0 TESTS="$(WAL_TESTS)" BIN=$(abspath $(BINDIR)) \
	    FAULT_BIN=$(abspath $(FAULT_O)/bin) sh tests/run.sh
endif

test: deps
	@$(MAKE) --no-print-directory check

run: deps-run
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh $(BINDIR)

fuzz:
	@sh fuzz/run.sh $(FUZZ_SECONDS)

# Includes and calls only look down the layers (scripts/layers.py says
# which); its self-test first proves that the check can fail.
layers: all
	@python3 tests/layers_selftest.py
	@python3 scripts/layers.py $(O)

clean:
	rm -rf build bin

.PHONY: all vendor deps deps-run unit fault check test run fuzz layers clean
# The unit tests' objects are kept (not removed as intermediates at the
# end of every run): named one by one, which .SECONDARY needs.
.SECONDARY: $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%.o)

-include $(shell find build -name '*.d' 2>/dev/null)
