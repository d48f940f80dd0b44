//! The calling conventions of compiled code, in one place: how Wasm functions, entry
//! trampolines and runtime helpers (libcalls) are called, and how a trap travels back.
//!
//! - **Wasm functions** use the host's C calling convention with the signature
//!   `(vmctx, params...) -> (status: i32, results...)`. `vmctx` is the callee instance's
//!   `VMContext` (Cranelift's `VMContext` argument, through which the prologue's stack-limit
//!   check finds `VMStoreContext::stack_limit`). Parameters and results have their Wasm types
//!   (`i32`, `i64`, `f32`, `f64`; references are `i64` in vm's raw encoding; `v128` is
//!   [`V128`], one vector register).
//! - **Status**: every Wasm function returns a status first. 0 means the results are valid;
//!   anything else means the call trapped and the results are garbage (see [`Status`]). A
//!   caller checks the status after every call and, when it is not 0, records its own frame
//!   and returns the same status: traps unwind by return values, frame by frame, and the
//!   backtrace is collected on the way (innermost first).
//! - **Entry trampolines** (one per signature of a module) are called from Rust as
//!   [`Trampoline`]: `(code, vmctx, values) -> status`. They load the parameters from
//!   `values` (vm's raw 64-bit slots: a `v128` takes two, low half first, and value `i`
//!   starts at `kestrel_vm::value::slot_offset`), call `code`, and store the results back
//!   the same way.
//! - **Libcalls** are `extern "C"` functions of [`crate::runtime`], linked by absolute
//!   address; those that can trap return a status the same way.
//! - **Calls through a `VMFuncRef`** (imports, `call_indirect`, and calls between functions
//!   compiled one by one) call `native_call` with `vmctx` when it is set. Otherwise the
//!   caller spills the arguments into a buffer of raw slots on its stack (as for an entry
//!   trampoline) and, when `array_call` is set, the callee is a linked host function:
//!   `array_call` is the [`HostCall`] entry and `vmctx` the function's `HostFunc`, so one
//!   indirect call reaches the host closure. When both are null it calls the `CallFunc`
//!   libcall with the function's id instead, which runs the function in whatever tier has
//!   it, and links a host function so that its next call takes the direct path. Either way
//!   the results come back in the buffer, behind a status.

use cranelift_codegen::ir::{AbiParam, ArgumentPurpose, Signature, Type, types};
use cranelift_codegen::isa::CallConv;
use kestrel_parser::{FuncType, ValType};
use kestrel_vm::offsets::VMContext;
use kestrel_vm::{HostFunc, TrapCode};

/// Calls a Wasm function with parameters and results in raw 64-bit slots.
pub(crate) type Trampoline =
    unsafe extern "C" fn(code: *const u8, vmctx: *mut VMContext, values: *mut u64) -> u32;

/// How compiled code calls a linked host function (`VMFuncRef::array_call` of a host
/// function, [`crate::runtime::call_host`]): `host` is the function (`VMFuncRef::vmctx`),
/// `caller` the calling instance's context, `values` the parameters in `len` raw slots,
/// overwritten with the results. Returns a status: `Pending` for a host error or trap,
/// `Panic` for a panic, both parked in the activation as for a libcall.
pub(crate) type HostCall = unsafe extern "C" fn(
    host: *const HostFunc,
    caller: *mut VMContext,
    values: *mut u64,
    len: usize,
) -> u32;

/// The signature of [`HostCall`].
pub(crate) fn host_call_signature(call_conv: CallConv, pointer_type: Type) -> Signature {
    let mut signature = Signature::new(call_conv);
    signature.params.extend([AbiParam::new(pointer_type); 4]);
    signature.returns.push(AbiParam::new(types::I32));
    signature
}

/// The status a call into compiled code ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    /// A Wasm trap; the backtrace is in the activation's frames.
    Trap(TrapCode),
    /// A [`kestrel_vm::Trap`] (a host error, or a trap with its own backtrace) waits in the
    /// activation.
    Pending,
    /// A host function panicked; the payload waits in the activation.
    Panic,
}

/// Status values below 0x100 are `1 + TrapCode`.
pub(crate) const STATUS_PENDING: u32 = 0x100;
pub(crate) const STATUS_PANIC: u32 = 0x101;

impl Status {
    pub(crate) fn encode(self) -> u32 {
        match self {
            Status::Ok => 0,
            Status::Trap(code) => 1 + code as u32,
            Status::Pending => STATUS_PENDING,
            Status::Panic => STATUS_PANIC,
        }
    }

    /// Decodes a status; an unknown value is `None` (a bug, never produced by the JIT).
    pub(crate) fn decode(status: u32) -> Option<Status> {
        match status {
            0 => Some(Status::Ok),
            STATUS_PENDING => Some(Status::Pending),
            STATUS_PANIC => Some(Status::Panic),
            _ => TrapCode::ALL
                .get(status.checked_sub(1)? as usize)
                .map(|code| Status::Trap(*code)),
        }
    }
}

/// The one Cranelift type of every `v128` value: operand-stack values, locals, block
/// parameters, signatures and memory cells all use it, and each SIMD instruction bitcasts
/// to the lane type it needs and back.
pub(crate) const V128: Type = types::I8X16;

/// The Cranelift type of a Wasm value type.
pub(crate) fn value_type(ty: ValType) -> Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::Ref(_) => types::I64,
        ValType::V128 => V128,
    }
}

/// How many raw 64-bit slots a value of Cranelift type `ty` takes in a values buffer
/// (`kestrel_vm::value`): two for `v128`, else one.
pub(crate) fn slots_of(ty: Type) -> usize {
    if ty == V128 { 2 } else { 1 }
}

/// The byte offset of each value of `types` in a buffer of raw slots, one after the other
/// (`kestrel_vm::value::slot_offset`), and the number of slots they take together.
pub(crate) fn slot_layout(types: &[Type]) -> (Vec<usize>, usize) {
    let mut offsets = Vec::with_capacity(types.len());
    let mut slots = 0;
    for ty in types {
        offsets.push(slots * 8);
        slots += slots_of(*ty);
    }
    (offsets, slots)
}

/// The native signature of a Wasm function of type `ty`.
pub(crate) fn wasm_signature(
    ty: &FuncType,
    call_conv: CallConv,
    pointer_type: Type,
) -> Result<Signature, String> {
    let mut signature = Signature::new(call_conv);
    signature
        .params
        .push(AbiParam::special(pointer_type, ArgumentPurpose::VMContext));
    for param in ty.params() {
        signature.params.push(AbiParam::new(value_type(*param)));
    }
    signature.returns.push(AbiParam::new(types::I32));
    for result in ty.results() {
        signature.returns.push(AbiParam::new(value_type(*result)));
    }
    Ok(signature)
}

/// An on-stack-replacement entry (see `translate::translate`): continues a call of a
/// function from a loop header with the state in `state` (raw slots: the locals, then the
/// operand stack); the results are left in `state`. Returns a status.
pub(crate) type OsrEntry = unsafe extern "C" fn(vmctx: *mut VMContext, state: *mut u64) -> u32;

/// The signature of [`OsrEntry`].
pub(crate) fn osr_signature(call_conv: CallConv, pointer_type: Type) -> Signature {
    let mut signature = Signature::new(call_conv);
    signature
        .params
        .push(AbiParam::special(pointer_type, ArgumentPurpose::VMContext));
    signature.params.push(AbiParam::new(pointer_type));
    signature.returns.push(AbiParam::new(types::I32));
    signature
}

/// The signature of [`Trampoline`].
pub(crate) fn trampoline_signature(call_conv: CallConv, pointer_type: Type) -> Signature {
    let mut signature = Signature::new(call_conv);
    signature.params.extend([AbiParam::new(pointer_type); 3]);
    signature.returns.push(AbiParam::new(types::I32));
    signature
}

macro_rules! libcalls {
    ($( $(#[$doc:meta])* $name:ident = $function:path : ($($param:ident),*) -> ($($result:ident),*); )*) => {
        /// The runtime helpers compiled code calls. Each is an `extern "C"` function of
        /// [`crate::runtime`]; `ptr` parameters are pointers, the rest integers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Libcall {
            $( $(#[$doc])* $name, )*
        }

        impl Libcall {
            pub(crate) const ALL: &'static [Libcall] = &[$(Libcall::$name,)*];

            /// The native signature.
            pub(crate) fn signature(self, call_conv: CallConv, pointer_type: Type) -> Signature {
                let mut signature = Signature::new(call_conv);
                match self {
                    $( Libcall::$name => {
                        $( signature.params.push(AbiParam::new(libcall_type!($param, pointer_type))); )*
                        $( signature.returns.push(AbiParam::new(libcall_type!($result, pointer_type))); )*
                    } )*
                }
                signature
            }

            /// The function's address.
            pub(crate) fn address(self) -> usize {
                match self {
                    $( Libcall::$name => $function as *const () as usize, )*
                }
            }
        }
    };
}

macro_rules! libcall_type {
    (ptr, $pointer:expr) => {
        $pointer
    };
    (i32, $pointer:expr) => {
        types::I32
    };
    (i64, $pointer:expr) => {
        types::I64
    };
}

use crate::runtime as rt;

libcalls! {
    /// `memory.grow`: `(vmctx, memory, delta) -> old size in pages, or all ones`.
    MemoryGrow = rt::memory_grow: (ptr, i32, i64) -> (i64);
    /// `memory.fill`: `(vmctx, memory, destination, value, len) -> status`.
    MemoryFill = rt::memory_fill: (ptr, i32, i64, i32, i64) -> (i32);
    /// `memory.copy`: `(vmctx, destination memory, source memory, destination, source, len)`.
    MemoryCopy = rt::memory_copy: (ptr, i32, i32, i64, i64, i64) -> (i32);
    /// `memory.init`: `(vmctx, memory, segment, destination, source, len) -> status`.
    MemoryInit = rt::memory_init: (ptr, i32, i32, i64, i64, i64) -> (i32);
    /// `data.drop`: `(vmctx, segment)`.
    DataDrop = rt::data_drop: (ptr, i32) -> ();
    /// `table.grow`: `(vmctx, table, init, delta) -> old size, or all ones`.
    TableGrow = rt::table_grow: (ptr, i32, i64, i64) -> (i64);
    /// `table.fill`: `(vmctx, table, start, value, len) -> status`.
    TableFill = rt::table_fill: (ptr, i32, i64, i64, i64) -> (i32);
    /// `table.copy`: `(vmctx, destination table, source table, destination, source, len)`.
    TableCopy = rt::table_copy: (ptr, i32, i32, i64, i64, i64) -> (i32);
    /// `table.init`: `(vmctx, table, segment, destination, source, len) -> status`.
    TableInit = rt::table_init: (ptr, i32, i32, i64, i64, i64) -> (i32);
    /// `elem.drop`: `(vmctx, segment)`.
    ElemDrop = rt::elem_drop: (ptr, i32) -> ();
    /// Calls a function without compiled code or a linked host-call entry (host functions
    /// on their first call from compiled code, other tiers):
    /// `(vmctx, FuncId, values, len) -> status`, values in raw slots.
    CallFunc = rt::call_func: (ptr, i32, ptr, i64) -> (i32);
    /// Appends `(instance of vmctx, function index)` to the backtrace being unwound.
    RecordFrame = rt::record_frame: (ptr, i32) -> ();
    /// The body of a function that failed to compile: `(vmctx, function index) -> status`.
    CompileError = rt::compile_error: (ptr, i32) -> (i32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for code in TrapCode::ALL {
            let status = Status::Trap(*code);
            assert!(status.encode() < STATUS_PENDING);
            assert_eq!(Status::decode(status.encode()), Some(status));
        }
        for status in [Status::Ok, Status::Pending, Status::Panic] {
            assert_eq!(Status::decode(status.encode()), Some(status));
        }
        assert_eq!(Status::decode(0xff), None);
        assert_eq!(Status::decode(0x102), None);
    }
}
