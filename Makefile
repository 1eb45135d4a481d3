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
# The library is built in its own target directory, $(TARGET_DIR)/install
# (TARGET_DIR is CARGO_TARGET_DIR, or target), so the soname and the static
# library never touch target/release, which `cargo build` and the README's
# in-tree command use. The installed files carry no debug info; `make
# install DEBUG=1` keeps it.

CARGO ?= cargo
INSTALL ?= install
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
STRIP ?= strip
DEBUG ?= 0
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
INSTALL_TARGET_DIR ?= $(TARGET_DIR)/install
OUT := $(INSTALL_TARGET_DIR)/release
DEBUGINFO := $(if $(filter 1,$(DEBUG)),1,0)

VERSION := $(shell sed -n 's/^version = "\([^"]*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
ABI := $(if $(filter 0,$(MAJOR)),0.$(MINOR),$(MAJOR))
SONAME := libpymonitoring.so.$(ABI)
REALNAME := libpymonitoring.so.$(VERSION)

.PHONY: all build install uninstall print-version

all: build

build:
	CARGO_TARGET_DIR=$(INSTALL_TARGET_DIR) $(CARGO) rustc --release --lib --crate-type cdylib,staticlib \
	    --config profile.release.debug=$(DEBUGINFO) -- -C link-arg=-Wl,-soname,$(SONAME)
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
ifneq ($(DEBUG),1)
	$(STRIP) --strip-debug $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/libpymonitoring.a
endif

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libpymonitoring.so $(DESTDIR)$(LIBDIR)/libpymonitoring.a \
	    $(DESTDIR)$(INCLUDEDIR)/pymonitoring.h $(DESTDIR)$(PKGCONFIGDIR)/pymonitoring.pc

print-version:
	@echo $(VERSION) $(SONAME)
