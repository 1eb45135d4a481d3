//! The library `dlopen`ed as a Python extension module is, with glibc's
//! static TLS surplus switched off (`GLIBC_TUNABLES`), so that its
//! thread-local block is dynamic: the fire path's TLS descriptor
//! (`src/ffi/tls.rs`) then resolves to glibc's `_dl_tlsdesc_dynamic`, which
//! allocates each thread's block inside the first fire's descriptor call.
//! `tests/dlopen/dynamic_tls.c` checks that the block is indeed dynamic and
//! that five threads' fires are all delivered, exactly.

mod c_programs;

use std::process::Command;

use c_programs::{lib_dir, manifest_dir, succeeded, CProgram};

#[test]
fn fires_from_a_dlopened_library_in_dynamic_tls() {
    let program = CProgram {
        name: "dynamic_tls".into(),
        sources: vec![manifest_dir().join("tests/dlopen/dynamic_tls.c")],
        defines: vec![],
        // Not linked to the library: it is loaded with dlopen only.
        flags: vec!["-Wl,--as-needed".into()],
        libs: vec!["-lpthread".into(), "-ldl".into()],
        cpp: false,
    }
    .build();
    let out = Command::new(&program)
        .arg(lib_dir().join("libpymonitoring.so"))
        .env("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=0")
        .output()
        .expect("run dynamic_tls");
    let stdout = succeeded("dynamic_tls", &out);
    assert_eq!(stdout.trim(), "dynamic TLS: 200000 fires on 5 threads");
}
