# Build and install pymonitoring as a C library.
#
#   make install PREFIX=/usr/local          # or PREFIX=$HOME/.local, DESTDIR=... for packaging
#   pkg-config --cflags --libs pymonitoring
#
# Installs lib/libpymonitoring.so.VERSION with the soname
# libpymonitoring.so.ABI (and the .so.ABI / .so links), lib/libpymonitoring.a,
# include/pymonitoring.h and lib/pkgconfig/pymonitoring.pc.
#
# ABI is MAJOR from 1.0 on; before 1.0 it is 0.MINOR, because under semver a
# 0.x minor release may break the ABI.
#
# `cargo build` and `cargo test` are unaffected: the soname and the static
# library are added only here, through `cargo rustc`.

CARGO ?= cargo
INSTALL ?= install
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
OUT := $(TARGET_DIR)/release

VERSION := $(shell sed -n 's/^version = "\([^"]*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
ABI := $(if $(filter 0,$(MAJOR)),0.$(MINOR),$(MAJOR))
SONAME := libpymonitoring.so.$(ABI)
REALNAME := libpymonitoring.so.$(VERSION)

.PHONY: all build install uninstall print-version

all: build

build:
	$(CARGO) rustc --release --lib --crate-type cdylib,staticlib -- -C link-arg=-Wl,-soname,$(SONAME)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' pymonitoring.pc.in > $(OUT)/pymonitoring.pc

install: build
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 755 $(OUT)/libpymonitoring.so $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libpymonitoring.so
	$(INSTALL) -m 644 $(OUT)/libpymonitoring.a $(DESTDIR)$(LIBDIR)/libpymonitoring.a
	$(INSTALL) -m 644 include/pymonitoring.h $(DESTDIR)$(INCLUDEDIR)/pymonitoring.h
	$(INSTALL) -m 644 $(OUT)/pymonitoring.pc $(DESTDIR)$(PKGCONFIGDIR)/pymonitoring.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libpymonitoring.so $(DESTDIR)$(LIBDIR)/libpymonitoring.a \
	    $(DESTDIR)$(INCLUDEDIR)/pymonitoring.h $(DESTDIR)$(PKGCONFIGDIR)/pymonitoring.pc

print-version:
	@echo $(VERSION) $(SONAME)
