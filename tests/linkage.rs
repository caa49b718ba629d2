//! The binary needs only the C runtime: OpenSSL, zlib and libcurl are built in
//! (rdkafka's `ssl-vendored`, `libz-static` and `curl-static`), so it runs on any glibc
//! Linux without libssl of a particular version. `ldd` on the built binary proves it.

use std::process::Command;

/// What a glibc program may link: the C library and its parts, libgcc_s (unwinding),
/// the dynamic loader, the vDSO.
const ALLOWED: [&str; 8] = [
    "linux-vdso.so",
    "libc.so",
    "libm.so",
    "libgcc_s.so",
    "libpthread.so",
    "libdl.so",
    "librt.so",
    "ld-linux-x86-64.so",
];

#[test]
fn binary_links_only_the_c_runtime() {
    let bin = env!("CARGO_BIN_EXE_rowtide");
    let out = match Command::new("ldd").arg(bin).output() {
        Ok(o) => o,
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "ldd cannot run: {e}");
            eprintln!("SKIPPED: ldd cannot run: {e}");
            return;
        }
    };
    assert!(out.status.success(), "ldd {bin} failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let libs: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(libs.iter().any(|l| l.starts_with("libc.so")), "{text}");
    for lib in &libs {
        let name = lib.rsplit('/').next().unwrap_or(lib);
        assert!(
            ALLOWED.iter().any(|a| name.starts_with(a)),
            "{bin} links {name}, which is not part of the C runtime:\n{text}"
        );
    }
    for forbidden in ["libssl", "libcrypto", "libz.", "libcurl", "libsasl2"] {
        assert!(!text.contains(forbidden), "{forbidden} linked:\n{text}");
    }
}
