# sensorbus build. `make` builds build/sensorbus; `make test` builds and runs
# every test; `make run` runs the agent with its built-in defaults.
#   V=1          show commands
#   SANITIZE=1   ASan + UBSan for everything (separate build dir)
#   BPF=0        leave the BPF sensor out (no clang/bpftool/libbpf needed)
#   EXTRA_CFLAGS, CPPFLAGS, PREFIX, DESTDIR as usual

.DELETE_ON_ERROR:
.SUFFIXES:

# also in debian/changelog (make deb checks) and man/sensorbus.8 (e2e 76 checks)
VERSION := 0.1.0
# make deb hands it to the package's build, which has no .git of its own
ifndef COMMIT
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
endif
PREFIX ?= /usr/local
DESTDIR ?=
BPF ?= 1
SANITIZE ?= 0

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

ifeq ($(SANITIZE),1)
BUILD ?= build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SAN_FLAGS :=
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(CPPFLAGS) $(CFLAGS) $(WARN) $(SAN_FLAGS) -D_GNU_SOURCE -Iinclude -Ibpf \
	-I$(BUILD) -DSB_VERSION='"$(VERSION)"' -DSB_COMMIT='"$(COMMIT)"' -MMD -MP $(EXTRA_CFLAGS)
# Only what every run uses: libcurl, libmicrohttpd and librabbitmq are opened
# when a sensor or sink needs them (include/sb_dl.h). No -lm: the one function used, ldexp,
# is in libc too, and libm's ifunc relocations alone touch ~350 KB at start.
LIBS := -lcjson -lz -lcap -lpthread
ALL_LDFLAGS := $(SAN_FLAGS) $(LDFLAGS)

# Core sources: everything under src/ except the BPF sensor's user side, which
# needs its skeletons; with BPF=0 its stub stands in. Both use its config keys
# (config.c, core).
BPF_DIR := src/sensors/bpf
BPF_CORE_SRCS := $(BPF_DIR)/config.c
BPF_STUB_SRCS := $(BPF_DIR)/stub.c
SRCS := $(sort $(filter-out $(BPF_DIR)/%,$(wildcard src/*.c src/*/*.c src/*/*/*.c)) \
	$(BPF_CORE_SRCS))
BPF_USER_SRCS := $(filter-out $(BPF_CORE_SRCS) $(BPF_STUB_SRCS),$(wildcard $(BPF_DIR)/*.c))
BPF_PROGS := $(wildcard bpf/*.bpf.c)

ifeq ($(BPF),1)
SRCS += $(BPF_USER_SRCS)
ALL_CFLAGS += -DSB_HAVE_BPF=1
LIBS += $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
else
SRCS += $(BPF_STUB_SRCS)
endif

OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(BUILD)/obj/src/main.o,$(OBJS))

TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
ifneq ($(BPF),1)
TEST_SRCS := $(filter-out tests/unit/test_bpf%,$(TEST_SRCS))
endif
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

.PHONY: all run test unit e2e clean install deps bench soak fuzz format check-format promtext-bench \
	codec-bench bpf-arches deb

all: $(BUILD)/sensorbus

$(BUILD)/sensorbus: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/obj/%.o: %.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# ---- BPF: .bpf.c -> .bpf.o -> .skel.h, embedded in the one binary ----
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf -Iinclude \
	-Wall -Werror -Wno-unused-function
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_PROGS))

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux/$(ARCH)/vmlinux.h
	$(call msg,BPF,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

ifeq ($(BPF),1)
$(patsubst %.c,$(BUILD)/obj/%.o,$(BPF_USER_SRCS)): $(BPF_SKELS)
endif

# Every BPF program compiles for every architecture in vmlinux/ (CO-RE
# objects are per arch only through vmlinux.h and __TARGET_ARCH).
BPF_ARCHES := $(notdir $(wildcard vmlinux/*))
BPF_CROSS := $(foreach a,$(BPF_ARCHES),$(patsubst bpf/%.bpf.c,$(BUILD)/bpf-$(a)/%.bpf.o,$(BPF_PROGS)))

define bpf_cross_rule
$(BUILD)/bpf-$(1)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux/$(1)/vmlinux.h
	$$(call msg,BPF-$(1),$$<)
	$$(Q)mkdir -p $$(dir $$@)
	$$(Q)$$(CLANG) $$(subst -D__TARGET_ARCH_$$(ARCH) -Ivmlinux/$$(ARCH),-D__TARGET_ARCH_$(1) -Ivmlinux/$(1),$$(BPF_CFLAGS)) -c $$< -o $$@
endef
$(foreach a,$(BPF_ARCHES),$(eval $(call bpf_cross_rule,$(a))))

bpf-arches: $(BPF_CROSS)

# ---- tests ----
TEST_LIBS := $(LIBS) -lcmocka

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	$(call msg,TEST-CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(ALL_LDFLAGS) $(TEST_LIBS)

deps:
	$(Q)scripts/deps.sh build

run: deps all
	$(BUILD)/sensorbus $(ARGS)

unit: $(TEST_BINS)
	$(Q)tests/run-unit.sh $(TEST_BINS)

e2e: all
	$(Q)SB_BIN=$(BUILD)/sensorbus tests/run-e2e.sh

test:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) --no-print-directory check-format
	$(Q)$(MAKE) --no-print-directory all $(TEST_BINS) $(if $(filter 1,$(BPF)),bpf-arches)
	$(Q)tests/run-unit.sh $(TEST_BINS)
	$(Q)SB_BIN=$(BUILD)/sensorbus SB_BUILD=$(BUILD) tests/run-e2e.sh

# ---- fuzzing: libFuzzer + ASan/UBSan, one harness per decoder of untrusted
# input: fuzz/fuzz_NAME.c, linked against every core source built for
# fuzzing (the BPF sensor's stub stands in for its libbpf side, its record
# decoder is in), its seeds in FUZZ_SEEDS_NAME. A harness with FUZZ_GEN_NAME
# := 1 writes seeds of its own (from the fixtures, or made by the project's
# code) into $(BUILD)/fuzz/seeds-NAME when run with SB_FUZZ_SEEDS set
# (fuzz/fuzz.h). `make fuzz` runs every harness FUZZ_SECS each; `make
# fuzz-NAME` one; docs/fuzzing.md.
FUZZ_SECS ?= 20
FUZZ_OUT ?= fuzz-out
FUZZ_HARNESSES := promtext pbevent proc proctree spool config bpf amqpmsg algod
FUZZ_ARGS_promtext := -max_len=8192 -dict=fuzz/promtext.dict
FUZZ_SEEDS_promtext := fuzz/corpus fixtures/prom
FUZZ_ARGS_pbevent := -max_len=16384
FUZZ_SEEDS_pbevent := fuzz/corpus-pbevent
FUZZ_ARGS_proc := -max_len=16384
FUZZ_SEEDS_proc := fuzz/corpus-proc
FUZZ_GEN_proc := 1
FUZZ_ARGS_proctree := -max_len=8192
FUZZ_SEEDS_proctree := fuzz/corpus-proctree
FUZZ_GEN_proctree := 1
FUZZ_ARGS_spool := -max_len=16384
FUZZ_SEEDS_spool := fuzz/corpus-spool
FUZZ_GEN_spool := 1
FUZZ_ARGS_config := -max_len=8192 -dict=fuzz/config.dict
FUZZ_SEEDS_config := fuzz/corpus-config
FUZZ_GEN_config := 1
FUZZ_ARGS_bpf := -max_len=4096
FUZZ_SEEDS_bpf := fuzz/corpus-bpf
FUZZ_GEN_bpf := 1
FUZZ_ARGS_amqpmsg := -max_len=16384
FUZZ_SEEDS_amqpmsg := fuzz/corpus-amqpmsg
FUZZ_GEN_amqpmsg := 1
FUZZ_ARGS_algod := -max_len=8192
FUZZ_GEN_algod := 1

FUZZ_SRCS := $(sort $(filter-out src/main.c $(BPF_DIR)/%,$(wildcard src/*.c src/*/*.c \
	src/*/*/*.c))) $(BPF_CORE_SRCS) $(BPF_STUB_SRCS) $(BPF_DIR)/decode.c
FUZZ_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(FUZZ_SRCS))
FUZZ_LIB := $(BUILD)/fuzz/libsb.a
# The project's sources are held to -Werror by the normal (gcc) build;
# clang's other warnings about them do not stop a fuzz build.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all \
	-D_GNU_SOURCE -Iinclude -Ibpf -DSB_VERSION='"$(VERSION)"' -DSB_COMMIT='"$(COMMIT)"' -MMD -MP
FUZZ_LIBS := -lcjson -lz -lcap -lpthread -lm

$(BUILD)/fuzz/obj/%.o: %.c
	$(call msg,FUZZ-CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter-out -Werror,$(WARN)) \
		-fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_LIB)
	$(call msg,FUZZ-LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIB) \
		$(FUZZ_LIBS)

# Seeds a harness makes itself: rewritten whenever the harness is.
# A harness without FUZZ_GEN_NAME has none: run with SB_FUZZ_SEEDS, it would
# just fuzz, without end, here.
$(BUILD)/fuzz/seeds-%: $(BUILD)/fuzz/fuzz_%
	$(if $(FUZZ_GEN_$*),,@echo "fuzz_$* makes no seeds of its own (FUZZ_SEEDS_$*)" >&2; exit 1)
	$(call msg,SEEDS,$@)
	$(Q)rm -rf $@ && mkdir -p $@
	$(Q)SB_FUZZ_SEEDS=$@ $< >/dev/null

FUZZ_RUNS := $(addprefix fuzz-,$(FUZZ_HARNESSES))
.PHONY: $(FUZZ_RUNS) fuzz-build fuzz-regress fuzz-list

fuzz-build: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_HARNESSES)) \
	$(foreach h,$(FUZZ_HARNESSES),$(if $(FUZZ_GEN_$(h)),$(BUILD)/fuzz/seeds-$(h)))

fuzz: $(FUZZ_RUNS)

fuzz-list:
	@echo $(FUZZ_HARNESSES)

# Every input a harness once failed on (tests/fuzz-regress/NAME/), run
# once each: a fixed finding stays fixed.
fuzz-regress: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_HARNESSES))
	$(Q)for h in $(FUZZ_HARNESSES); do \
		[ -d tests/fuzz-regress/$$h ] || continue; \
		echo "  REGRESS  $$h: $$(ls tests/fuzz-regress/$$h | wc -l) input(s)"; \
		$(BUILD)/fuzz/fuzz_$$h tests/fuzz-regress/$$h/* >$(BUILD)/fuzz/regress-$$h.log 2>&1 || \
			{ tail -30 $(BUILD)/fuzz/regress-$$h.log; exit 1; }; \
	done

# The seed directories are read only; what the run adds goes to
# $(FUZZ_OUT)/corpus-NAME, a crashing input to $(FUZZ_OUT)/NAME-crash-*.
.SECONDEXPANSION:
$(FUZZ_RUNS): fuzz-%: $(BUILD)/fuzz/fuzz_% $$(if $$(FUZZ_GEN_$$*),$(BUILD)/fuzz/seeds-$$*)
	$(Q)mkdir -p $(FUZZ_OUT)/corpus-$*
	$(Q)$(BUILD)/fuzz/fuzz_$* -max_total_time=$(FUZZ_SECS) $(FUZZ_ARGS_$*) \
		$(if $(FUZZ_SEED),-seed=$(FUZZ_SEED)) \
		-artifact_prefix=$(FUZZ_OUT)/$*- -print_final_stats=1 \
		$(FUZZ_OUT)/corpus-$* $(wildcard $(FUZZ_SEEDS_$*)) \
		$(if $(FUZZ_GEN_$*),$(BUILD)/fuzz/seeds-$*)

# promtext-bench: the parser's throughput on a file (tests/helpers/promtext_bench.c)
$(BUILD)/promtext_bench: tests/helpers/promtext_bench.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJS) $(ALL_LDFLAGS) $(LIBS)

promtext-bench: $(BUILD)/promtext_bench

# codec-bench: every codec's encoding speed and size (tests/helpers/codec_bench.c), on
# made-up events and on the agent's own proc round of the captured fixture tree
$(BUILD)/codec_bench: tests/helpers/codec_bench.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJS) $(ALL_LDFLAGS) $(LIBS)

CODEC_TREE := $(CURDIR)/fixtures/procfs/vm-6.18
$(BUILD)/codec-bench/proc-round.pb: $(BUILD)/sensorbus
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@) && rm -f $@
	$(Q)printf '{"sinks":[{"type":"file","path":"%s","format":"protobuf"}]}' \
		"$(CURDIR)/$@" >$(dir $@)config.json
	$(Q)$(BUILD)/sensorbus -c $(dir $@)config.json --once --no-bpf --sensors proc \
		--procfs $(CODEC_TREE)/proc --sysfs $(CODEC_TREE)/sys --log-level warn

codec-bench: $(BUILD)/codec_bench $(BUILD)/codec-bench/proc-round.pb
	$(Q)$(BUILD)/codec_bench proc-round=$(BUILD)/codec-bench/proc-round.pb

# soak: the agent with every sensor and sink for DURATION under a changing
# process load; fails when its RSS, fds or threads keep growing after warm-up
# (scripts/soak.sh, docs/soak.md). Table and plot in SOAK_OUT.
DURATION ?= 10m
SOAK_OUT ?= $(BUILD)/soak

soak:
	$(Q)scripts/deps.sh soak
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SB_BIN=$(BUILD)/sensorbus DURATION=$(DURATION) SOAK_OUT=$(abspath $(SOAK_OUT)) scripts/soak.sh

bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SB_BIN=$(BUILD)/sensorbus bench/run.sh

# The unit, user, config and alert rules go where systemd and Prometheus
# look for them; an existing config is never overwritten.
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DATADIR ?= $(PREFIX)/share/sensorbus
MANDIR ?= $(PREFIX)/share/man

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(DATADIR) $(DESTDIR)$(SYSCONFDIR)/sensorbus $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/sensorbus $(DESTDIR)$(PREFIX)/bin/sensorbus
	install -m 0644 man/sensorbus.8 $(DESTDIR)$(MANDIR)/man8/sensorbus.8
	sed -e 's|/usr/local/bin/sensorbus|$(PREFIX)/bin/sensorbus|' \
		-e 's|/etc/sensorbus/|$(SYSCONFDIR)/sensorbus/|' \
		deploy/sensorbus.service >$(DESTDIR)$(UNITDIR)/sensorbus.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sensorbus.service
	install -m 0644 deploy/sensorbus.sysusers $(DESTDIR)$(SYSUSERSDIR)/sensorbus.conf
	install -m 0644 deploy/alerts.yml deploy/alerts_test.yml $(DESTDIR)$(DATADIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/sensorbus/sensorbus.json || \
		install -m 0644 deploy/sensorbus.json $(DESTDIR)$(SYSCONFDIR)/sensorbus/sensorbus.json

# ---- the Debian package (debian/, debhelper; docs/packaging.md) ----
# dpkg-buildpackage builds it in a copy of the tree's files under
# $(BUILD)/deb, which leaves this tree's build and its parent directory
# alone, and gets none of this make's variables but COMMIT; the .deb lands in
# $(BUILD). Its version is debian/changelog's: VERSION and a Debian revision.
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version)
DEB_FILE = sensorbus_$(DEB_VERSION)_$(shell dpkg --print-architecture).deb
DEB_DIR := $(BUILD)/deb
DEB_SRC := $(DEB_DIR)/sensorbus-$(VERSION)

deb:
	$(Q)v=$(DEB_VERSION) && [ "$${v%-*}" = "$(VERSION)" ] || \
		{ echo "deb: debian/changelog is at $$v, the Makefile at $(VERSION): add an entry" >&2; \
		exit 1; }
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	$(Q)git ls-files -z -co --exclude-standard | \
		tar -c --null --ignore-failed-read -T - -f - | tar -x -C $(DEB_SRC)
	$(Q)cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u SANITIZE \
		COMMIT=$(COMMIT) DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS:-parallel=2}" \
		dpkg-buildpackage -b -us -uc
	$(Q)mv $(DEB_DIR)/$(DEB_FILE) $(BUILD)/
	$(call msg,DEB,$(BUILD)/$(DEB_FILE))

# Every C file of the project in .clang-format's style (kernel-like); make
# test checks it first, make format rewrites.
FORMAT_FILES := $(sort $(wildcard src/*.[ch] src/*/*.[ch] src/*/*/*.[ch] include/*.h \
	tests/unit/*.[ch] tests/helpers/*.c fuzz/*.[ch] bench/*.c bpf/*.[ch]))

format:
	clang-format -i $(FORMAT_FILES)

check-format:
	$(Q)clang-format --dry-run --Werror $(FORMAT_FILES) || \
		{ echo "check-format: run make format" >&2; exit 1; }

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(TEST_BINS:=.d) $(FUZZ_OBJS:.o=.d) $(wildcard $(BUILD)/fuzz/*.d)
