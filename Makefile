# mtb: one non-recursive GNU Makefile.
#   make            libmtb (static + shared) and bin/mtb
#   make test       Criterion suite, then the LibMTL golden vectors, then the SLAW smoke pipeline
#   make sanitize   the same tests built with ASan + UBSan (into build-san/)
#   make bench      the microbenchmarks of bench/README.md
#   make fuzz       libFuzzer targets of tests/fuzz/ (clang), FUZZ_SECONDS each [60]
#   make install    headers, libmtb.a, libmtb.so, mtb.pc and bin/mtb under $(DESTDIR)$(PREFIX)
#   make clean
# Dependencies (Debian): pkg-config libopenblas-dev liblapacke-dev libhdf5-dev zlib1g-dev libcriterion-dev gnuplot-nox
#                        dataset-fashion-mnist (the source of MultiFashion, docs/multifashion.md)
#                        libopenmpi-dev openmpi-bin (MPI sweeps: mpirun -np N bin/mtb sweep ...)

# The LibMTL reference vectors `make test` replays (tests/fixtures/golden/README.md).
GOLDEN  ?= tests/fixtures/golden
B       ?= build
BIN     ?= bin
PKGS    := openblas hdf5 lapacke zlib

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(strip $(PKG_LIBS)),)
  $(warning pkg-config found none of: $(PKGS). Install them: apt-get install -y pkg-config libopenblas-dev liblapacke-dev libhdf5-dev zlib1g-dev)
endif

# MPI for `mpirun -np N bin/mtb sweep`: the CLI objects compile with Open MPI's flags and
# bin/mtb links libmpi (MPI_Init runs only under an MPI launcher, so a plain bin/mtb never
# starts MPI). Without mpicc, mtb builds without MPI and `mtb sweep` under mpirun says so.
MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null)
MPI_LIBS   := $(shell mpicc --showme:link 2>/dev/null)
ifeq ($(strip $(MPI_LIBS)),)
  $(warning mpicc not found: building bin/mtb without MPI (mpirun -np N bin/mtb sweep will refuse to run). Install it: apt-get install -y libopenmpi-dev openmpi-bin)
else
  MPI_CFLAGS += -DMTB_HAVE_MPI
endif

OPT      ?= -O2
# -fno-math-errno and -fno-trapping-math let sqrtf and branch-free selects vectorise (mtb never
# reads errno or FP exception flags; NaN and Inf semantics are unchanged); the dynamic cost
# model lets -O2 vectorise loops with a remainder. No fast-math: NaN checks must stay.
CFLAGS   := -std=c11 $(OPT) -g -Wall -Wextra -Werror -fPIC -D_DEFAULT_SOURCE \
            -fno-math-errno -fno-trapping-math -fvect-cost-model=dynamic \
            -Icore/include $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  := $(EXTRA_LDFLAGS)
LDLIBS   := $(PKG_LIBS) -lm

LIB_SRC  := $(sort $(wildcard core/src/*.c core/src/*/*.c synth/*.c datasets/*.c))
CLI_SRC  := $(sort $(wildcard core/cli/*.c bench/*.c tests/golden/*.c))
TEST_SRC := $(sort $(wildcard tests/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/obj/%.o)
$(filter $(B)/obj/core/cli/%,$(CLI_OBJ)): CFLAGS += $(MPI_CFLAGS)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/obj/%.o)

LIBA     := $(B)/lib/libmtb.a
LIBSO    := $(B)/lib/libmtb.so
MTB      := $(BIN)/mtb
TESTBIN  := $(B)/tests/test_mtb

# One program per paper: paper_repro/<paper>/*.c -> $(BIN)/repro-<paper>, and a
# `make reproduce-<paper> [SCALE=smoke|paper]` target that runs paper_repro/<paper>/reproduce.
# paper_repro/common/ is the toolkit every reproduction links (repro.h), not a paper.
PAPERS     := $(filter-out common,$(sort $(patsubst paper_repro/%/,%,$(dir $(wildcard paper_repro/*/*.c)))))
REPRO_BINS := $(PAPERS:%=$(BIN)/repro-%)
COMMON_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard paper_repro/common/*.c))
# repro_start (repro.h) is the start-up of every mtb program, which lives with the CLI
COMMON_OBJ += $(B)/obj/core/cli/blas_start.o
SCALE      ?= paper

.PHONY: all test sanitize bench clean demo $(PAPERS:%=reproduce-%)
all: $(LIBA) $(LIBSO) $(MTB) $(REPRO_BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The code version every run file records (provenance.h): `git describe` of the source
# tree, rewritten only when it changes so that an unchanged tree does not rebuild. "-dirty"
# means a tracked file differs from the commit, except the files the programs themselves
# write (REPORT_OUTPUTS: reports, their figures and the benchmark tables): a reproduction
# rewrites its README, and a second reproduction run from the same tree must still carry
# the same version, or `mtb sweep --reuse` (which requires it) would never share a run.
VERSION_H := $(B)/gen/mtb_version.h
REPORT_OUTPUTS := paper_repro/*/README.md paper_repro/*/paper/** results bench/README.md \
                  bench/step_vs_tasks*
GIT_DESCRIBE := $(shell v=$$(git describe --always 2>/dev/null) || v=unknown; \
    [ "$$v" = unknown ] || git diff --quiet HEAD -- . $(foreach p,$(REPORT_OUTPUTS),':(exclude,glob)$(p)') \
    || v=$$v-dirty; echo $$v)
$(VERSION_H): FORCE
	@mkdir -p $(@D)
	@echo '#define MTB_CODE_VERSION "$(GIT_DESCRIBE)"' > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@
$(B)/obj/core/src/provenance.o: $(VERSION_H)
$(B)/obj/core/src/provenance.o: CFLAGS += -I$(B)/gen
.PHONY: FORCE
FORCE:

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# The shared library's soname carries the ABI version (SOVER): programs linked against it
# load libmtb.so.$(SOVER), which `make install` installs, with libmtb.so as a link to it.
SOVER    := 0
$(LIBSO): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libmtb.so.$(SOVER) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(MTB): $(CLI_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBA) $(LDLIBS) $(MPI_LIBS)

define repro_rule
$(BIN)/repro-$(1): $(patsubst %.c,$(B)/obj/%.o,$(wildcard paper_repro/$(1)/*.c)) $(COMMON_OBJ) $(LIBA)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBA) $$(LDLIBS)
endef
$(foreach p,$(PAPERS),$(eval $(call repro_rule,$(p))))

# Static pattern rule: make skips implicit rules for .PHONY targets (STYLE.md).
$(PAPERS:%=reproduce-%): reproduce-%: all
	MTB=$(MTB) REPRO=$(BIN)/repro-$* SCALE=$(SCALE) paper_repro/$*/reproduce

# `make bench-multifashion [SCALE=smoke|paper|full]`: the MultiFashion benchmark of every
# method (paper_repro/multifashion/reproduce; docs/multifashion.md). Its smoke scale (the mlp
# trunk, a 12k / 2k subset, 2 epochs) is part of `make test`.
.PHONY: bench-multifashion
bench-multifashion: reproduce-multifashion

$(TESTBIN): $(TEST_OBJ) $(COMMON_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(COMMON_OBJ) $(LIBA) $(LDLIBS) -lcriterion

# Tests run with one BLAS thread: results are then bit-identical run to run.
test: $(TESTBIN) $(MTB)
	OPENBLAS_NUM_THREADS=1 MTB_BIN=$(MTB) $(TESTBIN) --jobs 2
	@if [ -d "$(GOLDEN)" ]; then $(MTB) golden $(GOLDEN); \
	 else echo "golden: FAILED: no reference vectors at $(GOLDEN) (set GOLDEN=/path/to/fixtures)"; exit 1; fi
	tests/install_test.sh
	$(MAKE) reproduce-slaw SCALE=smoke
	$(MAKE) reproduce-rlw SCALE=smoke
	$(MAKE) reproduce-dbmtl SCALE=smoke
	$(MAKE) bench-multifashion SCALE=smoke
	$(MAKE) reproduce-imtl SCALE=smoke

# tests/lsan.supp: one leak inside Criterion's runner (no mtb frame), nothing of mtb's.
sanitize:
	LSAN_OPTIONS="suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0$${LSAN_OPTIONS:+:$$LSAN_OPTIONS}" \
	$(MAKE) B=build-san BIN=build-san/bin OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" test

# bench/README.md, regenerated by a program from what the benchmarks print (every number,
# the machine, the kernel, the code version); BLAS_KERNEL=env|NAME, BENCH_FULL=1, SKIP=a,b.
bench: $(MTB)
	MTB=$(MTB) bench/make_readme.sh

# The README's main job: MTRRegression-10 and a full default equal-weights run.
demo: $(MTB)
	@test -f datasets/mtr10.h5 || $(MTB) gen mtr --tasks 10 --seed 1 -o datasets/mtr10.h5
	$(MTB) train --data datasets/mtr10.h5 --method ew --seed 1 -o runs/ew-1.h5

clean:
	rm -rf build build-san build-fuzz bin

# ---- fuzzing (tests/fuzz/README.md) ----------------------------------------------------
# Every tests/fuzz/fuzz_*.c is a libFuzzer target, built with clang, ASan and UBSan against
# the library compiled the same way (into build-fuzz/), then run FUZZ_SECONDS seconds on a
# corpus seeded with small files made by bin/mtb. Needs clang and libclang-rt-14-dev.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FB           := build-fuzz
FUZZ_CFLAGS  := -std=c11 -O1 -g -Wall -Wextra -D_DEFAULT_SOURCE -fno-math-errno \
                -fno-omit-frame-pointer -Icore/include -I$(B)/gen $(PKG_CFLAGS) \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJ     := $(LIB_SRC:%.c=$(FB)/obj/%.o)
.PHONY: fuzz
$(FB)/obj/%.o: %.c $(VERSION_H)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(FB)/libmtb.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^
$(FB)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FB)/libmtb.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FB)/libmtb.a $(LDLIBS)
# The command-line target (fuzz_cli.c) also links the CLI's objects, all but its main.
FUZZ_CLI_OBJ := $(patsubst %.c,$(FB)/obj/%.o,$(filter-out core/cli/main.c,$(wildcard core/cli/*.c)))
$(FB)/fuzz_cli: tests/fuzz/fuzz_cli.c $(FUZZ_CLI_OBJ) $(FB)/libmtb.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Icore/cli -fsanitize=fuzzer -o $@ $< $(FUZZ_CLI_OBJ) $(FB)/libmtb.a $(LDLIBS)
# The trusted readers on one file, in-process: what minimize.py reproduces HDF5's crashes with.
$(FB)/raw_read: tests/fuzz/raw_read.c $(LIBA)
	$(CC) $(CFLAGS) -o $@ $< $(LIBA) $(LDLIBS)
fuzz: $(FUZZ_TARGETS:%=$(FB)/%) $(FB)/raw_read $(MTB)
	tests/fuzz/run $(FB) $(MTB) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ---- install: make install [PREFIX=/usr/local] [DESTDIR=/staging/root] ------------------
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0
.PHONY: install
$(B)/mtb.pc: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: mtb' 'Description: multi-task learning task-balancing methods (mtb)' \
	  'Version: $(VERSION)' 'Requires.private: $(PKGS)' 'Cflags: -I$${includedir}' \
	  'Libs: -L$${libdir} -lmtb' 'Libs.private: -lm' > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@
install: $(LIBA) $(LIBSO) $(MTB) $(B)/mtb.pc
	install -d $(DESTDIR)$(PREFIX)/include/mtb $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 core/include/mtb/*.h $(DESTDIR)$(PREFIX)/include/mtb/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/libmtb.a
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/libmtb.so.$(SOVER)
	ln -sf libmtb.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libmtb.so
	install -m 644 $(B)/mtb.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/mtb.pc
	install -m 755 $(MTB) $(DESTDIR)$(PREFIX)/bin/mtb

REPRO_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard paper_repro/*/*.c))
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(REPRO_OBJ:.o=.d)
