# sensorbus build. `make` builds build/sensorbus; `make test` builds and runs
# every test; `make run` runs the agent with its built-in defaults.
#   V=1          show commands
#   SANITIZE=1   ASan + UBSan for everything (separate build dir)
#   BPF=0        leave the BPF sensor out (no clang/bpftool/libbpf needed)
#   EXTRA_CFLAGS, PREFIX, DESTDIR as usual

.DELETE_ON_ERROR:
.SUFFIXES:

VERSION := 0.1.0
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
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
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) $(SAN_FLAGS) -D_GNU_SOURCE -Iinclude -I$(BUILD) \
	-DSB_VERSION='"$(VERSION)"' -DSB_COMMIT='"$(COMMIT)"' -MMD -MP $(EXTRA_CFLAGS)
LIBS := -lcjson -lpthread -lm -lrabbitmq
ALL_LDFLAGS := $(SAN_FLAGS) $(LDFLAGS)

# Core sources: everything under src/ except src/bpf (the BPF sensor's user side),
# which needs its skeletons.
SRCS := $(sort $(filter-out src/bpf/%,$(wildcard src/*.c src/*/*.c src/*/*/*.c)))
BPF_USER_SRCS := $(wildcard src/bpf/*.c)
BPF_PROGS := $(wildcard bpf/*.bpf.c)

ifeq ($(BPF),1)
SRCS += $(BPF_USER_SRCS)
ALL_CFLAGS += -DSB_HAVE_BPF=1
LIBS += $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
endif

OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(BUILD)/obj/src/main.o,$(OBJS))

TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

.PHONY: all run test unit e2e clean install deps bench fuzz format check-format

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
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Ibpf -Iinclude \
	-Wall -Werror -Wno-unused-function
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_PROGS))

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) vmlinux/vmlinux.h
	$(call msg,BPF,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

ifeq ($(BPF),1)
$(patsubst %.c,$(BUILD)/obj/%.o,$(BPF_USER_SRCS)): $(BPF_SKELS)
endif

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
	$(Q)$(MAKE) --no-print-directory all $(TEST_BINS)
	$(Q)tests/run-unit.sh $(TEST_BINS)
	$(Q)SB_BIN=$(BUILD)/sensorbus SB_BUILD=$(BUILD) tests/run-e2e.sh

bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SB_BIN=$(BUILD)/sensorbus bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/sensorbus $(DESTDIR)$(PREFIX)/bin/sensorbus

format:
	clang-format -i $(SRCS) $(wildcard include/*.h tests/unit/*.c tests/unit/*.h)

clean:
	rm -rf build

-include $(OBJS:.o=.d)
