//! The JIT tier: compiles Wasm functions to native code with Cranelift.
//!
//! - [`compile_function`] compiles one function alone, for tiered execution.
//! - [`compile`] translates every function of a module to Cranelift IR ([`translate`]: one
//!   pass over the operators with a value stack and a control stack), compiles them for the
//!   host in parallel, and links them into executable memory ([`compiler`],
//!   [`code_memory`]). The code is stored in the module's `TierSlots::compiler` slot and
//!   shared by every instance in every store.
//! - [`link_instance`] records, in the store, where each function of an instance of a
//!   compiled module starts (`VMFuncRef::native_call`), so that calls through imports and
//!   tables reach native code directly. The embedding layer links an instance when a call
//!   first reaches its compiled code (until then such calls take the runtime path), so
//!   instantiation does no per-function work.
//! - [`call`] enters compiled code from the host ([`runtime`]).
//!
//! # Machine model
//!
//! Compiled code is per module, so it never embeds an instance's or a store's address: it
//! receives the instance's `VMContext` as its first argument and reads memories, tables,
//! globals and function references through the `#[repr(C)]` layouts and offsets of
//! `kestrel_vm::offsets` (there is no second copy of the runtime). Calls between functions of
//! one module are direct native calls; calls through imports and `call_indirect` go through
//! the store's `VMFuncRef` of the callee (native when it has compiled code, else through the
//! runtime and the embedding layer's [`CallHook`]). Host functions are called by the runtime
//! with the calling instance as their caller. The calling convention and the trap scheme
//! (traps unwind by status return values, collecting the backtrace) are in [`abi`].
//!
//! Bounds checks are explicit (see [`translate`]), so code never relies on the size of a
//! memory's address-space reservation. Stack exhaustion is caught by Cranelift's
//! stack-limit check in every prologue, which the [`signals`] handler turns into a
//! "call stack exhausted" trap.
//!
//! Everything that depends on the host (which hosts are supported, instruction-cache
//! flushing, the registers the handler rewrites, each ISA's relocations) is in [`host`].
//!
//! The configured limits map as follows: `StackLimits::max_wasm_stack` bounds the native
//! stack one entry may use (compiled frames are counted in bytes, so `max_call_depth`, the
//! interpreter's frame count, does not apply to them); `max_reentrancy` bounds nested
//! entries from host functions exactly as in the interpreter.
//!
//! Architecture invariant: this crate depends on the runtime core (`kestrel-vm`) and the
//! parser only; it knows nothing of the interpreter or the embedding API.
//!
//! Unsafe code is confined to [`code_memory`] (mapping and protecting code), [`host`]
//! (cache maintenance, the frame words the trap handler reads), [`signals`] (the `SIGILL`
//! handler), [`runtime`] (entering compiled code, and the libcalls that rebuild
//! store references from raw pointers) and the function-pointer casts of [`compiler`]; each
//! module's docs state the invariants its `unsafe` blocks rely on. Compiled code itself is
//! the other half of the sandbox: the adversarial tests in `jit/tests` exercise its checks.
//!
//! # Next steps (plans, not yet code)
//!
//! **Tiered mode** (done; see `kestrel/src/tier.rs` and ARCHITECTURE.md). The interpreter
//! counts calls and back-edges per function and reports hot ones through
//! `kestrel_vm::TierUp`; the embedding layer then runs [`compile_function`] (one function,
//! its own code allocation, calls to other defined functions through the store's
//! `VMFuncRef`s, a null `native_call` taking the runtime path to [`CallHook`]), sets
//! `TierSlots::native_ready`, and fills `VMFuncRef::native_call` lazily with
//! [`link_instance`]. This crate knows nothing of the interpreter. Left to do:
//! 1. Calls between tiered-up functions pay a load, a bounds check and an indirect call
//!    through the store's `VMFuncRef`; a per-module entry array (or patching direct calls
//!    once the callee is compiled) would make them as cheap as the whole-module JIT's.
//! 2. On-stack replacement: today a function entered once that loops for a long time stays
//!    interpreted, since frames finish in the tier they started in.
//!
//! **Guard pages and signal-based traps** (for the performance issue). Memories already
//! reserve 4 GiB of address space, so 32-bit accesses can drop their explicit checks:
//! reserve the 4 GiB plus a guard region for every 32-bit memory (8 GiB with the largest
//! static offset), emit plain loads with `MemFlags` trap codes, and extend [`signals`] to
//! `SIGSEGV`/`SIGBUS`: on a fault at a registered heap-access site, record the trap code and
//! resume at a per-function landing pad. Unlike the prologue's stack check, a fault in the
//! body happens with callee-saved registers clobbered, so the landing pad must be real code
//! (Cranelift's exception-table support, `try_call`, or a `setjmp`-style entry that restores
//! the registers of the innermost [`call`]); the backtrace then comes from walking frame
//! pointers (every frame keeps one) and mapping return addresses to functions, instead of
//! the status-return unwinding. Division and conversion checks can move to hardware traps
//! the same way. A store that straddles the end must still write nothing: a faulting x86
//! store writes no byte, other hosts need checking.
//!
//! **Other hosts.** Linux on x86-64, AArch64 and RISC-V 64 is done; everything
//! host-specific is in [`host`]. macOS would need its own `ucontext` layout there, and
//! AArch64 macOS its W^X JIT mapping (`MAP_JIT`) in [`code_memory`].

// The docs are written for maintainers (`cargo doc --document-private-items`) and link the
// private modules they describe.
#![allow(rustdoc::private_intra_doc_links)]

pub mod abi;
mod code_memory;
mod compiler;
mod host;
pub mod runtime;
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    )
))]
mod signals;
#[cfg(test)]
mod simd_tests;
mod translate;

/// Hosts without the stack-overflow handler compile nothing (see [`is_supported`]).
#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    )
)))]
mod signals {
    pub(crate) fn register(_: std::ops::Range<usize>, _: Vec<usize>) {}
    pub(crate) fn unregister(_: usize) {}
}

pub use runtime::{CallHook, HOST_STACK_RESERVE, call, call_array, call_osr_entry};

use kestrel_vm::{InstanceId, RuntimeModule, StoreOpaque};

/// Whether the JIT can run on this host: Linux on x86-64, AArch64 or RISC-V 64 (see
/// [`host`], which holds everything host-specific).
pub fn is_supported() -> bool {
    host::is_supported()
}

/// Whether the JIT can compile SIMD (`v128`) code on this host: a supported host whose ISA
/// has 128-bit vectors (always on x86-64 and AArch64; on RISC-V only with the V extension).
/// Where it cannot, [`compile`] refuses modules that use SIMD and [`compile_function`] the
/// functions that do, with a message saying why; the interpreter can still run them.
pub fn supports_simd() -> bool {
    is_supported() && compiler::isa().is_ok_and(|isa| host::vector_support(&**isa).is_ok())
}

/// Compiles defined function `index` of `module` alone, in its own code allocation (a
/// tier-up), unless that was done already. Its calls to other defined functions go through
/// the store's `VMFuncRef`s: native once those are linked ([`link_instance`]), else through
/// the runtime and the [`CallHook`]. Fails when the function (or its signature) cannot be
/// compiled; it should then stay in the interpreter. Do not mix with [`compile`] on one
/// module.
pub fn compile_function(
    module: &RuntimeModule,
    index: kestrel_parser::FuncIndex,
) -> Result<(), String> {
    compiler::compile_function(module, index)
}

/// Compiles the on-stack-replacement entry of defined function `index` of `module` for
/// its loop `loop_ordinal` (the loop's position among the body's `loop` instructions, in
/// order, from 0), unless the function has one: an entry [`call_osr_entry`] continues a
/// running call in, from the loop's header. One per function; like [`compile_function`],
/// for modules compiled function by function.
pub fn compile_osr_entry(
    module: &RuntimeModule,
    index: kestrel_parser::FuncIndex,
    loop_ordinal: u32,
) -> Result<(), String> {
    compiler::compile_osr_entry(module, index, loop_ordinal)
}

/// Compiles every function of `module` now, unless it is compiled already.
///
/// Fails when the host is not supported, or when the module uses SIMD (`v128`) and the host
/// cannot run vector code (RISC-V without the V extension; see [`host`]); a function body
/// the JIT cannot translate otherwise does not fail the module but traps when called.
pub fn compile(module: &RuntimeModule) -> Result<(), String> {
    compiler::compile_module(module).map(drop)
}

/// Whether `module` has JIT code (so calls to its functions should enter it).
pub fn is_compiled(module: &RuntimeModule) -> bool {
    compiler::CompiledModule::of(module).is_some()
}

/// Whether defined function `index` of `module` has compiled code the host (or another
/// tier) can enter: the module is compiled, the function translated, and its type has a
/// trampoline (every type does, `v128` included).
pub fn is_function_compiled(module: &RuntimeModule, index: kestrel_parser::FuncIndex) -> bool {
    compiler::CompiledModule::containing(module, index).is_some_and(|compiled| {
        compiled.error(&module.info, index).is_none()
            && compiled.entry(&module.info, index).is_some()
    })
}

/// Attaches the compiled code of `instance`'s module (all of it, or the functions compiled
/// so far) to the instance's functions in the store. Does nothing when nothing is compiled.
pub fn link_instance(store: &mut StoreOpaque, instance: InstanceId) {
    let entity = store.instance(instance);
    let module = entity.module.clone();
    if module.tiers.compiler.get().is_none() {
        return;
    }
    let info = &module.info;
    let first = entity.funcs.first_defined;
    for defined in 0..info.function_bodies.len() as u32 {
        let index = info.num_imported_functions + defined;
        let id = kestrel_vm::FuncId(first.0 + defined);
        if let Some(compiled) = compiler::CompiledModule::containing(&module, index) {
            let array_call = match compiled.error(info, index) {
                None => compiled
                    .entry(info, index)
                    .map_or(std::ptr::null(), |(_, trampoline)| trampoline as *const u8),
                Some(_) => std::ptr::null(),
            };
            store.set_native_call(id, compiled.function_address(info, index), array_call);
        }
    }
}
