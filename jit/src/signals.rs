//! Turning Cranelift's stack-limit check into a Wasm trap.
//!
//! Every compiled function's prologue compares the stack pointer (less the frame it is about
//! to allocate) with `VMStoreContext::stack_limit` and, when the stack would overflow,
//! executes a trap instruction (`ud2` on x86-64, `udf` on AArch64, an all-zero word on
//! RISC-V), which raises `SIGILL`. That happens before the function has touched its frame
//! or saved any register: right after it pushed the frame-pointer pair. The handler here
//! recognises those instructions by address (the code registry below lists every
//! stack-overflow trap site of every live module) and makes the function return to its
//! caller at once with the status of a "call stack exhausted" trap, exactly as if the
//! function had returned it: the frame and stack pointers are restored from the
//! frame-pointer pair, the program counter becomes the return address, and the status goes
//! in the first return register. The caller then unwinds like for any other trap (see
//! [`crate::abi`]). The register rewrite is host-specific and lives in [`crate::host`]
//! ([`SignalRegisters`]); this module is the same on every host.
//!
//! This module exists on the hosts the JIT supports (`crate::host::is_supported`);
//! elsewhere the JIT compiles nothing.
//!
//! Only those sites are handled. Any other `SIGILL` goes to the handler that was installed
//! before (or the default action, which ends the process as before).
//!
//! Invariants: a module's sites are registered before its code can run and unregistered
//! only when its code is freed; the handler only reads the registry (a read lock, never
//! held by a thread that is running compiled code), allocates nothing, and touches only the
//! interrupted thread's registers and the two words of the interrupted frame.

use crate::host::SignalRegisters;
use std::collections::BTreeMap;
use std::sync::{Once, OnceLock, RwLock};

/// The stack-overflow trap sites of one module's code, by code start address.
struct CodeSites {
    end: usize,
    /// Absolute addresses, sorted.
    stack_overflow: Box<[usize]>,
}

static REGISTRY: RwLock<BTreeMap<usize, CodeSites>> = RwLock::new(BTreeMap::new());

/// Registers the code at `range` and its stack-overflow trap sites (absolute addresses).
pub(crate) fn register(range: std::ops::Range<usize>, mut stack_overflow: Vec<usize>) {
    install_handler();
    stack_overflow.sort_unstable();
    REGISTRY
        .write()
        .unwrap_or_else(|poison| poison.into_inner())
        .insert(
            range.start,
            CodeSites {
                end: range.end,
                stack_overflow: stack_overflow.into(),
            },
        );
}

/// Forgets the code that starts at `start`.
pub(crate) fn unregister(start: usize) {
    REGISTRY
        .write()
        .unwrap_or_else(|poison| poison.into_inner())
        .remove(&start);
}

/// Whether `pc` is a registered stack-overflow trap site.
fn is_stack_overflow_site(pc: usize) -> bool {
    let registry = REGISTRY.read().unwrap_or_else(|poison| poison.into_inner());
    match registry.range(..=pc).next_back() {
        Some((_, sites)) if pc < sites.end => sites.stack_overflow.binary_search(&pc).is_ok(),
        _ => false,
    }
}

static INSTALL: Once = Once::new();
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

fn install_handler() {
    INSTALL.call_once(|| {
        // SAFETY: a zeroed `sigaction` is a valid starting value; we fill in the handler,
        // flags and an empty mask, and the out-pointer receives the previous action.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handle_sigill as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGILL, &action, &mut previous) == 0 {
                let _ = PREVIOUS.set(previous);
            }
        }
    });
}

/// The status a function returns when its stack check fails.
fn stack_overflow_status() -> u32 {
    crate::abi::Status::Trap(kestrel_vm::TrapCode::StackOverflow).encode()
}

unsafe extern "C" fn handle_sigill(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    let context = context.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes a valid `ucontext_t` for an `SA_SIGINFO` handler.
    if unsafe { return_from_stack_check(&mut *context) } {
        return;
    }
    // SAFETY: forwarding the signal with the arguments the kernel gave us.
    unsafe { forward(signal, info, context.cast()) }
}

/// If the thread stopped at a stack-overflow trap site, rewrites its registers so that the
/// interrupted function returns the stack-overflow status to its caller.
unsafe fn return_from_stack_check(context: &mut libc::ucontext_t) -> bool {
    let mut registers = SignalRegisters::new(context);
    if !is_stack_overflow_site(registers.pc()) {
        return false;
    }
    // SAFETY: at a stack check the prologue has set up the frame-pointer pair and nothing
    // else that changes the stack (see `crate::host`), so the frame pointer points at it.
    unsafe { registers.return_to_caller(stack_overflow_status()) };
    true
}

/// Hands the signal to the previous handler, or restores the default action and lets the
/// faulting instruction run again under it.
unsafe fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let Some(previous) = PREVIOUS.get() else {
        // SAFETY: resetting a signal to its default action.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
        return;
    };
    let handler = previous.sa_sigaction;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // SAFETY: reinstalling the action that was there before ours; returning re-executes
        // the instruction under it.
        unsafe { libc::sigaction(signal, previous, std::ptr::null_mut()) };
    } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous action declared a three-argument handler.
        let handler: unsafe extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(handler) };
        // SAFETY: forwarding the kernel's arguments.
        unsafe { handler(signal, info, context) };
    } else {
        // SAFETY: the previous action declared a one-argument handler.
        let handler: unsafe extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(handler) };
        // SAFETY: as above.
        unsafe { handler(signal) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_finds_sites_only_inside_registered_code() {
        register(1000..2000, vec![1500, 1100]);
        register(3000..3100, vec![3050]);
        assert!(is_stack_overflow_site(1100));
        assert!(is_stack_overflow_site(1500));
        assert!(!is_stack_overflow_site(1501));
        assert!(!is_stack_overflow_site(2500));
        assert!(is_stack_overflow_site(3050));
        unregister(1000);
        assert!(!is_stack_overflow_site(1500));
        unregister(3000);
        assert!(!is_stack_overflow_site(3050));
    }
}
