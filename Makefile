# mtb: one non-recursive GNU Makefile.
#   make            libmtb (static + shared) and bin/mtb
#   make test       Criterion suite, then the LibMTL golden vectors, then the SLAW smoke pipeline
#   make sanitize   the same tests built with ASan + UBSan (into build-san/)
#   make bench      the microbenchmarks of bench/README.md
#   make clean
# Dependencies (Debian): pkg-config libopenblas-dev liblapacke-dev libhdf5-dev libcriterion-dev gnuplot-nox

SHARED  ?= ../shared
B       ?= build
BIN     ?= bin
PKGS    := openblas hdf5 lapacke

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(strip $(PKG_LIBS)),)
  $(warning pkg-config found none of: $(PKGS). Install them: apt-get install -y pkg-config libopenblas-dev liblapacke-dev libhdf5-dev)
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
CLI_SRC  := $(sort $(wildcard core/cli/*.c bench/*.c))
TEST_SRC := $(sort $(wildcard tests/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/obj/%.o)

LIBA     := $(B)/lib/libmtb.a
LIBSO    := $(B)/lib/libmtb.so
MTB      := $(BIN)/mtb
TESTBIN  := $(B)/tests/test_mtb

# One program per paper: paper_repro/<paper>/*.c -> $(BIN)/repro-<paper>, and a
# `make reproduce-<paper> [SCALE=smoke|paper]` target that runs paper_repro/<paper>/reproduce.
PAPERS     := $(sort $(patsubst paper_repro/%/,%,$(dir $(wildcard paper_repro/*/*.c))))
REPRO_BINS := $(PAPERS:%=$(BIN)/repro-%)
SCALE      ?= paper

.PHONY: all test sanitize bench clean demo $(PAPERS:%=reproduce-%)
all: $(LIBA) $(LIBSO) $(MTB) $(REPRO_BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The code version every run file records (provenance.h): `git describe` of the source
# tree, rewritten only when it changes so that an unchanged tree does not rebuild.
VERSION_H := $(B)/gen/mtb_version.h
GIT_DESCRIBE := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
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

$(LIBSO): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(MTB): $(CLI_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBA) $(LDLIBS)

define repro_rule
$(BIN)/repro-$(1): $(patsubst %.c,$(B)/obj/%.o,$(wildcard paper_repro/$(1)/*.c)) $(LIBA)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBA) $$(LDLIBS)
endef
$(foreach p,$(PAPERS),$(eval $(call repro_rule,$(p))))

# Static pattern rule: make skips implicit rules for .PHONY targets (STYLE.md).
$(PAPERS:%=reproduce-%): reproduce-%: all
	MTB=$(MTB) REPRO=$(BIN)/repro-$* SCALE=$(SCALE) SHARED=$(SHARED) paper_repro/$*/reproduce

$(TESTBIN): $(TEST_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(LIBA) $(LDLIBS) -lcriterion

# Tests run with one BLAS thread: results are then bit-identical run to run.
test: $(TESTBIN) $(MTB)
	OPENBLAS_NUM_THREADS=1 MTB_BIN=$(MTB) $(TESTBIN) --jobs 2
	@if [ -d "$(SHARED)/golden" ]; then $(MTB) golden $(SHARED)/golden; \
	 else echo "golden: FAILED: no reference vectors at $(SHARED)/golden (set SHARED=/path/to/shared)"; exit 1; fi
	$(MAKE) reproduce-slaw SCALE=smoke

sanitize:
	$(MAKE) B=build-san BIN=build-san/bin OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" test

# The README's main job: MTRRegression-10 and a full default equal-weights run.
demo: $(MTB)
	@test -f datasets/mtr10.h5 || $(MTB) gen mtr --tasks 10 --seed 1 -o datasets/mtr10.h5
	$(MTB) train --data datasets/mtr10.h5 --method ew --seed 1 -o runs/ew-1.h5

clean:
	rm -rf build build-san bin

REPRO_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard paper_repro/*/*.c))
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(REPRO_OBJ:.o=.d)
