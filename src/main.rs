use std::process::ExitCode;

use clap::Parser;
use commander::cli::Cli;

/// The system allocator, saying `error: out of memory` and exiting with
/// status 1 when an allocation fails (std's handler aborts with a note about
/// backtraces).
struct Allocator;

// SAFETY: every call is passed to the system allocator unchanged; only a
// failed allocation is handled, by ending the process.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        let p = unsafe { std::alloc::System.realloc(ptr, layout, new) };
        if p.is_null() {
            out_of_memory(new);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

/// Says so without allocating, and exits with status 1.
fn out_of_memory(size: usize) -> ! {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = size;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let pieces: [&[u8]; 3] = [
        b"error: out of memory (could not allocate ",
        &digits[at..],
        b" bytes more)\n",
    ];
    for piece in pieces {
        // SAFETY: writes a buffer we own to stderr.
        unsafe { libc::write(2, piece.as_ptr().cast(), piece.len()) };
    }
    // SAFETY: ends the process at once, running nothing that could allocate.
    unsafe { libc::_exit(1) }
}

fn main() -> ExitCode {
    commander::install_panic_hook();
    // A seam for the test that a panic is reported as an error, not a backtrace.
    if std::env::var_os("COMMANDER_TEST_PANIC").is_some() {
        panic!("COMMANDER_TEST_PANIC is set");
    }
    let cli = Cli::parse(); // usage errors: clap prints them and exits 2
    match commander::run(cli) {
        Ok(code) => code,
        Err(err) => commander::report(&err),
    }
}
