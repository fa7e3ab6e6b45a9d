# asb: build of everything. `make` builds the programs, the BPF objects and
# their skeletons; `make check` the tests; `make kmod KDIR=...` asb.ko.

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
O        := build
BTF      ?= /sys/kernel/btf/vmlinux
LINUX_SRC_TAR ?= $(firstword $(wildcard /usr/src/linux-source-6.12.tar.xz))

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	    -Wformat=2 -Wshadow -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	    -fPIE -Iinclude -Ipolicy -Iagentd -I$(O) -I$(O)/bpf
LDFLAGS  += -pie -Wl,-z,relro,-z,now
LDLIBS   := -liniparser -lbpf -lelf -lz -lsodium -lnl-genl-3 -lnl-3 -lmnl
CFLAGS   += -I/usr/include/libnl3

# ASan+UBSan build of the tests: make SAN=1 (objects go to build-san/).
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=all -U_FORTIFY_SOURCE
ifeq ($(SAN),1)
O        := build-san
CFLAGS   += $(SAN_FLAGS)
LDFLAGS  += -fsanitize=address,undefined
endif

POLICY_SRC := $(wildcard policy/*.c) policy/default_policy.S
AGENTD_SRC := $(filter-out agentd/agentd.c agentd/asbctl.c agentd/asb-secret.c,$(wildcard agentd/*.c))
BPF_SRC    := $(wildcard bpf/*.bpf.c)
BPF_SKELS  := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.skel.h,$(BPF_SRC))
TEST_SRC   := $(wildcard selftests/*_test.c)
TESTS      := $(patsubst selftests/%.c,$(O)/selftests/%,$(TEST_SRC)) \
	      $(O)/selftests/preload_hide.so
BENCH_SRC  := $(wildcard bench/*.c)
BENCHES    := $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRC))
BINS       := $(O)/bin/agentd $(O)/bin/asbctl
BINS       += $(if $(wildcard agentd/asb-secret.c),$(O)/bin/asb-secret)

POLICY_OBJ := $(patsubst %,$(O)/obj/%.o,$(basename $(POLICY_SRC)))
AGENTD_OBJ := $(patsubst %.c,$(O)/obj/%.o,$(AGENTD_SRC))
LIBS       := $(O)/libasbd.a $(O)/libasbpolicy.a

.PHONY: all deps tests check test fuzz bench demo kmod vm-check clean
.DELETE_ON_ERROR:
# Objects, BPF objects and skeletons are kept: a second make rebuilds nothing.
.SECONDARY:

all: deps $(BINS) $(TESTS) $(BENCHES)

# Install missing Debian build dependencies when root on a machine with apt.
deps:
	@scripts/install-deps

$(O)/obj/%.o: %.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Only the tests need the kselftest harness. It compares mixed signedness
# and longjmps by design.
$(O)/obj/selftests/%.o: CFLAGS += -Wno-sign-compare -Wno-clobbered -Wno-format-truncation
$(O)/obj/selftests/%.o: selftests/%.c | $(BPF_SKELS) $(O)/kselftest/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(O)/obj/policy/default_policy.o: policy/default_policy.S policy/default.ini
	@mkdir -p $(@D)
	$(CC) -c -DPOLICY_FILE='"policy/default.ini"' $< -o $@

$(O)/libasbpolicy.a: $(POLICY_OBJ)
	ar rcs $@ $^

$(O)/libasbd.a: $(AGENTD_OBJ)
	ar rcs $@ $^

$(O)/bin/%: $(O)/obj/agentd/%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIBS) $(LDLIBS) -o $@

# asb-secret runs inside sandboxes: static, it needs no loader and no
# library beyond the one file the policy's env: secrets imply (never
# sanitized: the sanitizers' runtime reads /proc, which a sandbox may not).
$(O)/bin/asb-secret: agentd/asb-secret.c include/asb/broker.h
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SAN_FLAGS),$(CFLAGS)) -static-pie \
		-Wl,-z,relro,-z,now $< -o $@

$(O)/selftests/%: $(O)/obj/selftests/%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIBS) $(LDLIBS) -o $@

# broker_test's attacker library (never sanitized: it is preloaded).
$(O)/selftests/preload_hide.so: selftests/preload_hide.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O2 -Wall -Werror $< -o $@

$(O)/bench/%: $(O)/obj/bench/%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIBS) $(LDLIBS) -o $@

# BPF: vmlinux.h from BTF, CO-RE objects, libbpf skeletons.
$(O)/bpf/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $(BTF) format c > $@

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(O)/bpf/vmlinux.h $(wildcard bpf/*.h include/asb/*.h)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
		-Iinclude -I$(O)/bpf -c $< -o $@
	llvm-strip -g $@ 2>/dev/null || true

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

# kselftest_harness.h comes from Debian's linux-source-6.12, never the repo.
$(O)/kselftest/kselftest_harness.h:
	@mkdir -p $(@D)
	@test -n "$(LINUX_SRC_TAR)" || { echo "linux-source-6.12 is not installed" >&2; exit 1; }
	tar -xJf $(LINUX_SRC_TAR) -C $(@D) --strip-components=4 \
		--wildcards '*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	touch $@

tests: deps $(TESTS) $(BINS)

# Every test lane (scripts/check): host (plain and ASan+UBSan, after a
# bounded fuzzing run) and VM (Debian's kernels under qemu, with asb.ko).
check test: all kmod
	$(MAKE) SAN=1 tests
	scripts/check

# libFuzzer target for the parser and compiler, bounded time.
FUZZ_TIME ?= 60
$(O)/fuzz/policy_fuzz: selftests/fuzz/policy_fuzz.c $(POLICY_SRC) policy/default.ini
	@mkdir -p $(@D)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ipolicy \
		selftests/fuzz/policy_fuzz.c $(filter %.c,$(POLICY_SRC)) \
		-liniparser -o $@

fuzz: $(O)/fuzz/policy_fuzz
	@mkdir -p $(O)/fuzz/corpus
	$< -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 $(O)/fuzz/corpus selftests/fuzz/corpus

bench: all
	bench/run

demo: all
	scripts/demo

# asb.ko with module BTF into build/kmod/<kver>/ (scripts/build-kmod): for
# KDIR if given, else for every Debian kernel the VM lane boots.
kmod:
	scripts/build-kmod $(KDIR)

vm-check: all kmod
	ASB_LANES=vm scripts/check

clean:
	rm -rf build build-san
	@[ -z "$(KDIR)" ] || $(MAKE) -C $(KDIR) M=$(CURDIR) clean

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
