//! Compiling a whole module: Cranelift setup, parallel compilation of every function,
//! entry trampolines, and linking into one block of executable memory.
//!
//! The result, a [`CompiledModule`], is the JIT's per-module code. It lives in the module's
//! `TierSlots::compiler` slot, so it is shared by every instance of the module in every
//! store, and it holds no instance- or store-specific address: compiled code finds those
//! through its `VMContext` argument at run time (see `kestrel_vm::offsets`).
//!
//! Linking is ours (no `cranelift-module`/`cranelift-jit`): functions are laid out back to
//! back in one allocation; calls between them are PC-relative relocations, calls to runtime
//! helpers absolute addresses, patched by [`crate::host::apply_relocation`] (each ISA's
//! kinds); then the memory is made read+execute and the instruction caches are flushed
//! ([`CodeMemory::publish`]), and its stack-overflow trap sites are registered with the
//! signal handler ([`crate::signals`]) before any of it can run.
//!
//! A function that fails to translate (a feature the JIT does not implement) does not fail
//! the module: it gets a stub that reports the error as a trap when called, as the
//! interpreter does when it cannot translate a function.

use crate::abi::{self, Libcall, OsrEntry, Trampoline};
use crate::code_memory::CodeMemory;
use crate::translate::{self, ModuleEnv};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{
    self, ExternalName, Function, InstBuilder, MemFlagsData, UserFuncName, types,
};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use kestrel_parser::{FuncIndex, ModuleInfo};
use kestrel_vm::RuntimeModule;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `UserExternalName` namespace of calls to Wasm functions (index: function index).
pub(crate) const NAMESPACE_FUNCTION: u32 = 0;
/// `UserExternalName` namespace of libcalls (index: position in [`Libcall::ALL`]).
pub(crate) const NAMESPACE_LIBCALL: u32 = 1;

/// Code alignment of every function and trampoline.
const FUNCTION_ALIGNMENT: usize = 16;

/// The host ISA, built once.
pub(crate) fn isa() -> Result<&'static OwnedTargetIsa, String> {
    static ISA: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(|| make_isa(false))
        .as_ref()
        .map_err(Clone::clone)
}

/// The ISA extensions of x86-64 beyond its baseline (SSE2), which Cranelift uses when the
/// host has them and replaces by other sequences or libcalls when not.
const X86_EXTENSIONS: &[&str] = &[
    "has_sse3",
    "has_ssse3",
    "has_sse41",
    "has_sse42",
    "has_avx",
    "has_avx2",
    "has_avx512bitalg",
    "has_avx512dq",
    "has_avx512f",
    "has_avx512vbmi",
    "has_avx512vl",
    "has_avx512vnni",
    "has_avx_vnni",
    "has_bmi1",
    "has_bmi2",
    "has_fma",
    "has_lzcnt",
    "has_popcnt",
];

/// Builds the ISA of this host, or with `baseline` the host's ISA without any optional
/// x86-64 extension (the code any x86-64 host can run: the tests check that every
/// instruction lowers and gives the same results there).
pub(crate) fn make_isa(baseline: bool) -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    let mut set = |name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|error| format!("cannot set Cranelift flag {name}: {error}"))
    };
    set("opt_level", "speed")?;
    // The stack-overflow handler relies on every frame starting with the frame-pointer
    // pair (see `signals`).
    set("preserve_frame_pointers", "true")?;
    set("enable_probestack", "false")?;
    set("enable_multi_ret_implicit_sret", "true")?;
    set("unwind_info", "false")?;
    set(
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    let mut builder = cranelift_native::builder()
        .map_err(|error| format!("the JIT does not support this host: {error}"))?;
    if baseline && cfg!(target_arch = "x86_64") {
        for flag in X86_EXTENSIONS {
            builder
                .set(flag, "false")
                .map_err(|error| format!("cannot clear Cranelift flag {flag}: {error}"))?;
        }
    }
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|error| format!("cannot configure Cranelift for this host: {error}"))
}

/// One module's compiled code, or one function's (a tier-up: see [`compile_function`]).
pub(crate) struct CompiledModule {
    code: CodeMemory,
    /// The defined-function index of `functions[0]` (0 for a whole module).
    first: u32,
    /// Code offset of each defined function from `first` on (parallel to
    /// `function_bodies[first..]`).
    functions: Box<[u32]>,
    /// Code offset of the trampoline of each type index from `first_trampoline_type` on, or
    /// [`NO_TRAMPOLINE`] for types no compiled function has: indexed directly on every call
    /// from the host, and spanning only the compiled functions' types (one entry for a
    /// function compiled alone).
    trampolines: Box<[u32]>,
    first_trampoline_type: u32,
    /// Why a defined function could not be compiled (its code is then a stub).
    errors: Box<[Option<String>]>,
}

impl Drop for CompiledModule {
    fn drop(&mut self) {
        if self.code.is_published() {
            crate::signals::unregister(self.code.range().start);
        }
    }
}

impl CompiledModule {
    /// The JIT code of `module`, if it was compiled.
    pub(crate) fn of(module: &RuntimeModule) -> Option<&CompiledModule> {
        module
            .tiers
            .compiler
            .get()?
            .downcast_ref::<CompiledModule>()
    }

    /// The code of function `index` of `module`: the whole module's, or the function's own
    /// when it was compiled alone for a tier-up.
    pub(crate) fn containing(module: &RuntimeModule, index: FuncIndex) -> Option<&CompiledModule> {
        let slot = module.tiers.compiler.get()?;
        if let Some(compiled) = slot.downcast_ref::<CompiledModule>() {
            return Some(compiled);
        }
        let defined = index.checked_sub(module.info.num_imported_functions)? as usize;
        slot.downcast_ref::<TieredCode>()?
            .functions
            .get(defined)?
            .get()?
            .as_ref()
            .ok()
    }

    /// The address of defined function `index`.
    pub(crate) fn function_address(&self, info: &ModuleInfo, index: FuncIndex) -> *const u8 {
        let offset = self.functions[(index - info.num_imported_functions - self.first) as usize];
        self.code.base().wrapping_add(offset as usize)
    }

    /// The entry point of defined function `index` and the trampoline of its type; `None`
    /// for an on-stack-replacement entry's code, which has no trampolines.
    pub(crate) fn entry(
        &self,
        info: &ModuleInfo,
        index: FuncIndex,
    ) -> Option<(*const u8, Trampoline)> {
        let type_index = info.functions[index as usize];
        let slot = type_index.checked_sub(self.first_trampoline_type)?;
        let offset = *self.trampolines.get(slot as usize)?;
        if offset == NO_TRAMPOLINE {
            return None;
        }
        let address = self.code.base().wrapping_add(offset as usize);
        // SAFETY: `offset` is the start of a trampoline compiled with the signature of
        // `Trampoline` (`abi::trampoline_signature`) in published, executable code.
        let trampoline = unsafe { std::mem::transmute::<*const u8, Trampoline>(address) };
        Some((self.function_address(info, index), trampoline))
    }

    /// Why defined function `index` failed to compile, if it did.
    pub(crate) fn error(&self, info: &ModuleInfo, index: FuncIndex) -> Option<&str> {
        let defined = index
            .checked_sub(info.num_imported_functions)?
            .checked_sub(self.first)? as usize;
        self.errors.get(defined)?.as_deref()
    }
}

/// The compiler slot of a module compiled function by function (tiered execution): each
/// defined function's own code, made when it got hot, or why it could not be.
struct TieredCode {
    functions: Box<[OnceLock<Result<CompiledModule, String>>]>,
    /// Each defined function's on-stack-replacement entry (one per function), with the
    /// ordinal of the loop it enters.
    osr_entries: Box<[OnceLock<Result<OsrCode, String>>]>,
}

/// A function's on-stack-replacement entry: the loop it enters, and its code.
type OsrCode = (u32, CompiledModule);

impl TieredCode {
    fn of(module: &RuntimeModule) -> Result<&TieredCode, String> {
        let slot = module.tiers.compiler.get_or_init(|| {
            let count = module.info.function_bodies.len();
            Box::new(TieredCode {
                functions: (0..count).map(|_| OnceLock::new()).collect(),
                osr_entries: (0..count).map(|_| OnceLock::new()).collect(),
            })
        });
        slot.downcast_ref::<TieredCode>()
            .ok_or_else(|| "the module was compiled whole, not function by function".into())
    }
}

/// Compiles the on-stack-replacement entry of defined function `index` for loop
/// `loop_ordinal` (see `translate::translate`), unless the function has one already.
pub(crate) fn compile_osr_entry(
    module: &RuntimeModule,
    index: FuncIndex,
    loop_ordinal: u32,
) -> Result<(), String> {
    let defined = index
        .checked_sub(module.info.num_imported_functions)
        .ok_or("an imported function has no loops")? as usize;
    let entry = TieredCode::of(module)?.osr_entries[defined].get_or_init(|| {
        compile_uncached(module, Some(index), Some(loop_ordinal), isa()?)
            .map(|compiled| (loop_ordinal, compiled))
    });
    match entry {
        Ok((ordinal, _)) if *ordinal == loop_ordinal => Ok(()),
        Ok((ordinal, _)) => Err(format!(
            "function {index} has an entry for loop {ordinal} already"
        )),
        Err(error) => Err(error.clone()),
    }
}

/// The on-stack-replacement entry of defined function `index` for loop `loop_ordinal`, if
/// it was compiled.
pub(crate) fn osr_entry(
    module: &RuntimeModule,
    index: FuncIndex,
    loop_ordinal: u32,
) -> Option<OsrEntry> {
    let defined = index.checked_sub(module.info.num_imported_functions)? as usize;
    let tiered = module.tiers.compiler.get()?.downcast_ref::<TieredCode>()?;
    match tiered.osr_entries.get(defined)?.get()? {
        Ok((ordinal, compiled)) if *ordinal == loop_ordinal => {
            let address = compiled.function_address(&module.info, index);
            // SAFETY: the code at `address` was compiled with `abi::osr_signature`, the
            // signature of `OsrEntry`, and is published (executable) in `compiled`, which
            // the module keeps alive.
            Some(unsafe { std::mem::transmute::<*const u8, OsrEntry>(address) })
        }
        _ => None,
    }
}

/// Compiles defined function `index` of `module` alone, into its own code allocation, unless
/// that was done already (or the whole module is compiled). Its calls to other defined
/// functions go through the store's `VMFuncRef`s, so it links against nothing and the
/// other functions may stay interpreted. Fails when the function cannot be compiled.
pub(crate) fn compile_function(module: &RuntimeModule, index: FuncIndex) -> Result<(), String> {
    let defined = index
        .checked_sub(module.info.num_imported_functions)
        .ok_or("an imported function cannot be compiled")? as usize;
    if CompiledModule::of(module).is_some() {
        return Ok(());
    }
    TieredCode::of(module)?.functions[defined]
        .get_or_init(|| compile_uncached(module, Some(index), None, isa()?))
        .as_ref()
        .map(drop)
        .map_err(Clone::clone)
}

/// Where a relocation points.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A Wasm function of this module (a function index).
    Function(FuncIndex),
    /// An address outside the module's code.
    Absolute(usize),
    /// An offset within the same compiled function.
    Local(u32),
}

#[derive(Debug)]
struct Relocation {
    offset: u32,
    kind: Reloc,
    target: Target,
    addend: i64,
}

/// One compiled function, not yet placed.
struct CompiledCode {
    bytes: Vec<u8>,
    relocations: Vec<Relocation>,
    /// Offsets of the prologue's stack-overflow trap instructions.
    stack_overflow_sites: Vec<u32>,
}

/// Compiles every function of `module` with `isa` (not the host's: see [`make_isa`]) and
/// makes it the module's code, unless it has code already. For tests of the lowering on
/// other configurations of the host.
#[cfg(test)]
pub(crate) fn compile_module_with(
    module: &RuntimeModule,
    isa: &OwnedTargetIsa,
) -> Result<(), String> {
    let compiled = compile_uncached(module, None, None, isa)?;
    module
        .tiers
        .compiler
        .set(Box::new(compiled))
        .map_err(|_| "the module has code already".to_string())
}

/// Compiles every function of `module` (in parallel) and links them, unless that was done
/// already. Fails only when the host or the module's signatures are unsupported.
pub(crate) fn compile_module(module: &RuntimeModule) -> Result<&CompiledModule, String> {
    if let Some(compiled) = CompiledModule::of(module) {
        return Ok(compiled);
    }
    let compiled = compile_uncached(module, None, None, isa()?)?;
    // Another thread may have won the race; either result is equivalent.
    let _ = module.tiers.compiler.set(Box::new(compiled));
    CompiledModule::of(module).ok_or_else(|| "the compiler slot holds another tier's code".into())
}

/// Compiles the whole module, or only defined function `only` (then failing if it cannot be
/// translated, rather than making a stub), or only its on-stack-replacement entry for loop
/// `osr_loop` (no trampolines: it is entered directly).
fn compile_uncached(
    module: &RuntimeModule,
    only: Option<FuncIndex>,
    osr_loop: Option<u32>,
    isa: &OwnedTargetIsa,
) -> Result<CompiledModule, String> {
    if !crate::is_supported() {
        return Err(format!(
            "the JIT supports Linux on x86-64, AArch64 and RISC-V 64, not {} on {}",
            std::env::consts::OS,
            crate::host::ARCH
        ));
    }
    let info = &*module.info;
    // Without vector support, a module with `v128` in a signature cannot even have stubs
    // or trampolines: refuse it whole (the interpreter can run it).
    if info.types.iter().any(|ty| {
        ty.params()
            .iter()
            .chain(ty.results())
            .any(|ty| *ty == kestrel_parser::ValType::V128)
    }) {
        crate::host::vector_support(&**isa)?;
    }
    let env = ModuleEnv {
        info,
        type_ids: &module.type_ids,
        pointer_type: isa.pointer_type(),
        call_conv: isa.default_call_conv(),
        frontend_config: isa.frontend_config(),
        direct_calls: only.is_none(),
        osr_loop,
        instrumentation: module.instrumentation,
    };
    let (first, count) = match only {
        None => (0, info.function_bodies.len()),
        Some(index) => (index - info.num_imported_functions, 1),
    };
    let results = compile_in_parallel(&env, isa, first, count);

    let mut codes = Vec::with_capacity(count);
    let mut errors = Vec::with_capacity(count);
    for (defined, result) in results.into_iter().enumerate() {
        let index = info.num_imported_functions + first + defined as u32;
        match result {
            Ok(code) => {
                codes.push(code);
                errors.push(None);
            }
            Err(error) if only.is_some() || error == crate::host::NO_VECTORS => {
                return Err(format!("cannot compile function {index}: {error}"));
            }
            Err(error) => {
                codes.push(compile_stub(&env, isa, index)?);
                errors.push(Some(format!("cannot compile function {index}: {error}")));
            }
        }
    }
    // Trampolines serve calls from the host (an on-stack-replacement entry is entered
    // directly).
    let start = (info.num_imported_functions + first) as usize;
    let mut type_indices: Vec<u32> = if osr_loop.is_some() {
        Vec::new()
    } else {
        info.functions[start..start + count].to_vec()
    };
    type_indices.sort_unstable();
    type_indices.dedup();
    let mut trampolines = Vec::with_capacity(type_indices.len());
    for type_index in &type_indices {
        trampolines.push(compile_trampoline(&env, isa, *type_index)?);
    }

    // Layout: functions, then trampolines, each aligned.
    let mut bytes = Vec::new();
    let mut place = |code: &CompiledCode| {
        let offset = bytes.len().next_multiple_of(FUNCTION_ALIGNMENT);
        bytes.resize(offset, 0);
        bytes.extend_from_slice(&code.bytes);
        offset
    };
    let function_offsets: Vec<usize> = codes.iter().map(&mut place).collect();
    let trampoline_offsets: Vec<usize> = trampolines.iter().map(&mut place).collect();
    if u32::try_from(bytes.len()).is_err() {
        return Err("the module's compiled code exceeds 4 GiB".into());
    }

    let mut memory = CodeMemory::new(&bytes)?;
    let base = memory.base() as usize;
    {
        let code_bytes = memory.bytes_mut();
        let pieces = codes
            .iter()
            .zip(&function_offsets)
            .chain(trampolines.iter().zip(&trampoline_offsets));
        for (code, start) in pieces {
            for relocation in &code.relocations {
                let target = match relocation.target {
                    Target::Function(index) => {
                        let defined = index
                            .checked_sub(info.num_imported_functions + first)
                            .ok_or("a direct call to an imported function was relocated")?;
                        base + function_offsets
                            .get(defined as usize)
                            .ok_or("a direct call to a function compiled apart was relocated")?
                    }
                    Target::Absolute(address) => address,
                    Target::Local(offset) => base + start + offset as usize,
                };
                crate::host::apply_relocation(
                    code_bytes,
                    base,
                    start + relocation.offset as usize,
                    relocation.kind,
                    target,
                    relocation.addend,
                )?;
            }
        }
    }
    memory.publish()?;
    let sites = codes
        .iter()
        .zip(&function_offsets)
        .flat_map(|(code, start)| {
            code.stack_overflow_sites
                .iter()
                .map(move |site| base + start + *site as usize)
        })
        .collect();
    crate::signals::register(memory.range(), sites);
    Ok(CompiledModule {
        code: memory,
        first,
        functions: function_offsets
            .iter()
            .map(|offset| *offset as u32)
            .collect(),
        trampolines: {
            // `type_indices` is sorted: the span runs from its first to its last.
            let first = type_indices.first().copied().unwrap_or(0);
            let span = type_indices
                .last()
                .map_or(0, |last| (last - first) as usize + 1);
            let mut by_type = vec![NO_TRAMPOLINE; span].into_boxed_slice();
            for (type_index, offset) in type_indices.iter().zip(&trampoline_offsets) {
                by_type[(type_index - first) as usize] = *offset as u32;
            }
            by_type
        },
        first_trampoline_type: type_indices.first().copied().unwrap_or(0),
        errors: errors.into(),
    })
}

/// `CompiledModule::trampolines`' mark for a type without a trampoline (code offsets are
/// below 4 GiB and trampolines are aligned, so no trampoline starts here).
const NO_TRAMPOLINE: u32 = u32::MAX;

/// Compiles `count` defined functions from defined index `first` on all cores; results in
/// function order.
fn compile_in_parallel(
    env: &ModuleEnv<'_>,
    isa: &OwnedTargetIsa,
    first: u32,
    count: usize,
) -> Vec<Result<CompiledCode, String>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count.div_ceil(4))
        .max(1);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut context = Context::new();
        let mut builder_context = FunctionBuilderContext::new();
        let mut done = Vec::new();
        loop {
            let defined = next.fetch_add(1, Ordering::Relaxed);
            if defined >= count {
                break;
            }
            let index = env.info.num_imported_functions + first + defined as u32;
            context.clear();
            // A panic inside Cranelift (a translator bug producing invalid IR) fails this
            // function only: it becomes a stub, and the embedder keeps running.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                translate::translate(env, index, &mut context.func, &mut builder_context)
                    .and_then(|()| translate::check_vectors(&context.func, &**isa))
                    .and_then(|()| finish(&mut context, isa, index))
            }))
            .unwrap_or_else(|_| Err(format!("the compiler panicked on function {index}")));
            if result.is_err() {
                // A translation that stopped halfway leaves the builder context dirty.
                builder_context = FunctionBuilderContext::new();
                context = Context::new();
            }
            done.push((defined, result));
        }
        done
    };
    let mut results: Vec<Option<Result<CompiledCode, String>>> = (0..count).map(|_| None).collect();
    if threads == 1 {
        for (defined, result) in work() {
            results[defined] = Some(result);
        }
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
            for handle in handles {
                match handle.join() {
                    Ok(done) => {
                        for (defined, result) in done {
                            results[defined] = Some(result);
                        }
                    }
                    Err(payload) => std::panic::resume_unwind(payload),
                }
            }
        });
    }
    results
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err("not compiled".into())))
        .collect()
}

/// Compiles the function in `context` and extracts its code and relocations.
fn finish(context: &mut Context, isa: &OwnedTargetIsa, what: u32) -> Result<CompiledCode, String> {
    let names: HashMap<ir::UserExternalNameRef, ir::UserExternalName> = context
        .func
        .params
        .user_named_funcs()
        .iter()
        .map(|(reference, name)| (reference, name.clone()))
        .collect();
    let compiled = context
        .compile(&**isa, &mut ControlPlane::default())
        .map_err(|error| format!("Cranelift failed on function {what}: {:?}", error.inner))?;
    let mut relocations = Vec::new();
    for relocation in compiled.buffer.relocs() {
        let target = match &relocation.target {
            FinalizedRelocTarget::Func(offset) => Target::Local(*offset),
            FinalizedRelocTarget::ExternalName(ExternalName::User(reference)) => {
                let name = names
                    .get(reference)
                    .ok_or("a relocation names an undeclared function")?;
                match name.namespace {
                    NAMESPACE_FUNCTION => Target::Function(name.index),
                    NAMESPACE_LIBCALL => Target::Absolute(
                        Libcall::ALL
                            .get(name.index as usize)
                            .ok_or("a relocation names an unknown libcall")?
                            .address(),
                    ),
                    _ => return Err("a relocation names an unknown namespace".into()),
                }
            }
            FinalizedRelocTarget::ExternalName(ExternalName::LibCall(libcall)) => {
                Target::Absolute(cranelift_libcall_address(*libcall)?)
            }
            FinalizedRelocTarget::ExternalName(other) => {
                return Err(format!("unsupported relocation target {other:?}"));
            }
        };
        relocations.push(Relocation {
            offset: relocation.offset,
            kind: relocation.kind,
            target,
            addend: relocation.addend,
        });
    }
    let stack_overflow_sites = compiled
        .buffer
        .traps()
        .iter()
        .filter(|trap| trap.code == ir::TrapCode::STACK_OVERFLOW)
        .map(|trap| trap.offset)
        .collect();
    Ok(CompiledCode {
        bytes: compiled.code_buffer().to_vec(),
        relocations,
        stack_overflow_sites,
    })
}

/// Helpers Cranelift itself may call: float rounding without SSE4.1 (scalar, and each lane
/// of a vector), with Wasm's NaN rules, and `pshufb` without SSSE3 (`swizzle`, shuffles).
fn cranelift_libcall_address(libcall: ir::LibCall) -> Result<usize, String> {
    extern "C" fn ceil_f32(x: f32) -> f32 {
        kestrel_vm::numeric::f32_ceil(x)
    }
    extern "C" fn ceil_f64(x: f64) -> f64 {
        kestrel_vm::numeric::f64_ceil(x)
    }
    extern "C" fn floor_f32(x: f32) -> f32 {
        kestrel_vm::numeric::f32_floor(x)
    }
    extern "C" fn floor_f64(x: f64) -> f64 {
        kestrel_vm::numeric::f64_floor(x)
    }
    extern "C" fn trunc_f32(x: f32) -> f32 {
        kestrel_vm::numeric::f32_trunc(x)
    }
    extern "C" fn trunc_f64(x: f64) -> f64 {
        kestrel_vm::numeric::f64_trunc(x)
    }
    extern "C" fn nearest_f32(x: f32) -> f32 {
        kestrel_vm::numeric::f32_nearest(x)
    }
    extern "C" fn nearest_f64(x: f64) -> f64 {
        kestrel_vm::numeric::f64_nearest(x)
    }
    Ok(match libcall {
        ir::LibCall::CeilF32 => ceil_f32 as *const () as usize,
        ir::LibCall::CeilF64 => ceil_f64 as *const () as usize,
        ir::LibCall::FloorF32 => floor_f32 as *const () as usize,
        ir::LibCall::FloorF64 => floor_f64 as *const () as usize,
        ir::LibCall::TruncF32 => trunc_f32 as *const () as usize,
        ir::LibCall::TruncF64 => trunc_f64 as *const () as usize,
        ir::LibCall::NearestF32 => nearest_f32 as *const () as usize,
        ir::LibCall::NearestF64 => nearest_f64 as *const () as usize,
        ir::LibCall::X86Pshufb => crate::host::x86_pshufb_address()
            .ok_or("Cranelift called the x86 pshufb helper on another host")?,
        other => return Err(format!("unsupported Cranelift libcall {other:?}")),
    })
}

/// A function body that reports its compile error: `return compile_error(vmctx, index)`.
fn compile_stub(
    env: &ModuleEnv<'_>,
    isa: &OwnedTargetIsa,
    index: FuncIndex,
) -> Result<CompiledCode, String> {
    let ty = env.info.function_type(index);
    let signature = abi::wasm_signature(ty, env.call_conv, env.pointer_type)?;
    let mut context = Context::new();
    context.func = Function::with_name_signature(
        UserFuncName::user(NAMESPACE_FUNCTION, index),
        signature.clone(),
    );
    let mut builder_context = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut context.func, &mut builder_context);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let vmctx = builder.block_params(entry)[0];
    let callee = translate::import_libcall(&mut builder, env, Libcall::CompileError);
    let index_value = builder.ins().iconst(types::I32, i64::from(index));
    let call = builder.ins().call(callee, &[vmctx, index_value]);
    let status = builder.inst_results(call)[0];
    let mut returns = vec![status];
    for result in &signature.returns[1..] {
        returns.push(translate::zero(&mut builder, result.value_type));
    }
    builder.ins().return_(&returns);
    builder.finalize(isa.frontend_config());
    finish(&mut context, isa, index)
}

/// The trampoline for type `type_index`: `(code, vmctx, values) -> status`.
fn compile_trampoline(
    env: &ModuleEnv<'_>,
    isa: &OwnedTargetIsa,
    type_index: u32,
) -> Result<CompiledCode, String> {
    let ty = &env.info.types[type_index as usize];
    let pointer = env.pointer_type;
    let mut context = Context::new();
    context.func = Function::with_name_signature(
        UserFuncName::user(NAMESPACE_LIBCALL + 1, type_index),
        abi::trampoline_signature(env.call_conv, pointer),
    );
    let mut builder_context = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut context.func, &mut builder_context);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let [code, vmctx, values] = builder.block_params(entry) else {
        unreachable!("the trampoline signature has three parameters")
    };
    let (code, vmctx, values) = (*code, *vmctx, *values);
    // The buffer is 8-byte aligned only: no `aligned` flag, so that Cranelift never folds a
    // `v128` load into an instruction that requires 16-byte alignment.
    let flags = MemFlagsData::new().with_notrap();
    let param_types: Vec<ir::Type> = ty.params().iter().map(|ty| abi::value_type(*ty)).collect();
    let result_types: Vec<ir::Type> = ty.results().iter().map(|ty| abi::value_type(*ty)).collect();
    let (param_offsets, _) = abi::slot_layout(&param_types);
    let (result_offsets, _) = abi::slot_layout(&result_types);
    let mut arguments = vec![vmctx];
    for (value_type, offset) in param_types.iter().zip(&param_offsets) {
        let offset = i32::try_from(*offset).map_err(|_| "too many parameters")?;
        arguments.push(builder.ins().load(*value_type, flags, values, offset));
    }
    let signature = builder.import_signature(abi::wasm_signature(ty, env.call_conv, pointer)?);
    let call = builder.ins().call_indirect(signature, code, &arguments);
    let returns = builder.inst_results(call).to_vec();
    for (result, offset) in returns[1..].iter().zip(&result_offsets) {
        let offset = i32::try_from(*offset).map_err(|_| "too many results")?;
        builder.ins().store(flags, *result, values, offset);
    }
    builder.ins().return_(&returns[..1]);
    builder.finalize(isa.frontend_config());
    finish(&mut context, isa, type_index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_isa_is_available() {
        if crate::is_supported() {
            let isa = isa().unwrap();
            assert!(isa.flags().preserve_frame_pointers());
            assert_eq!(isa.pointer_type(), types::I64);
        }
    }

    #[test]
    fn every_libcall_has_an_address() {
        for libcall in Libcall::ALL {
            assert_ne!(libcall.address(), 0);
        }
    }
}
