//! Everything the JIT knows about the machine it runs on, in one place: which hosts it
//! supports, how newly written code becomes visible to instruction fetch, where the
//! registers live in a signal's `ucontext`, and how each ISA's relocations are patched.
//! The rest of the crate is host-neutral: it asks Cranelift for the host's ISA
//! (`cranelift_native`) and calls into this module for the rest.
//!
//! Supported hosts: Linux on x86-64, AArch64 and RISC-V 64 ([`is_supported`]). Elsewhere
//! the JIT compiles nothing and the embedding layer runs the interpreter.
//!
//! - **Instruction caches** ([`flush_icache`]): x86-64 keeps them coherent with data writes;
//!   AArch64 and RISC-V do not, so after writing code (and before it can run, on this or
//!   any other thread: tiered code is compiled on a background thread) the written range is
//!   cleaned to the point of unification and invalidated (`clear-cache`: `dc cvau`/`ic
//!   ivau` on AArch64, the `riscv_flush_icache` system call for all harts on RISC-V), and
//!   every thread of the process is made to discard instructions it may already have
//!   fetched (`membarrier`'s core serialisation on AArch64, via
//!   `wasmtime-jit-icache-coherence`).
//! - **Frames and the stack-overflow trap** ([`SignalRegisters`]): with
//!   `preserve_frame_pointers`, Cranelift opens every frame the same way on all three ISAs —
//!   the caller's frame pointer at `[fp]`, the return address at `[fp + 8]`, and the
//!   caller's stack pointer at `fp + 16` (`push rbp; mov rbp, rsp` on x86-64; `stp fp, lr,
//!   [sp, #-16]!; mov fp, sp` on AArch64; `addi sp, sp, -16; sd ra, 8(sp); sd fp, 0(sp); mv
//!   fp, sp` on RISC-V) — and its stack-limit check comes right after, before any
//!   callee-saved register is touched. Only the `ucontext` layout and the names of the
//!   registers differ, which [`SignalRegisters`] hides; the trap instruction (`ud2`, `udf`,
//!   an all-zero word) raises `SIGILL` on all three.
//! - **Relocations** ([`apply_relocation`]): absolute 8-byte addresses (calls to runtime
//!   helpers, which Cranelift loads from a literal because they are not colocated) on every
//!   ISA, and each ISA's PC-relative call between functions of one module (colocated):
//!   `X86CallPCRel4`, `Arm64Call` (±128 MiB), `RiscvCallPlt` (an `auipc`/`jalr` pair, ±2
//!   GiB). These are pure byte patches, tested on every host.
//! - **Page size**: code memory is mapped by `region`, which rounds to the host's page size
//!   (4, 16 or 64 KiB); linear memories round with `kestrel_vm` (see `vm/src/memory.rs`,
//!   which also degrades its address-space reservation on hosts with little of it).

use cranelift_codegen::binemit::Reloc;

/// Whether the JIT can run on this host.
pub(crate) const fn is_supported() -> bool {
    cfg!(all(
        target_os = "linux",
        any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            target_arch = "riscv64"
        )
    ))
}

/// Whether compiled code can use 128-bit vectors (`v128`) on the host `isa` describes: always
/// on x86-64 (SSE2 is baseline; Cranelift falls back to SSE2 sequences or libcalls where
/// SSSE3/SSE4.1 are missing) and AArch64 (NEON is baseline); on RISC-V 64 only with the V
/// extension, without which Cranelift would emit vector instructions the host cannot run.
/// The error is the message a module or function that needs vectors is refused with.
pub(crate) fn vector_support(isa: &dyn cranelift_codegen::isa::TargetIsa) -> Result<(), String> {
    let architecture = isa.triple().architecture.to_string();
    if !architecture.starts_with("riscv") {
        return Ok(());
    }
    let has_v = isa
        .isa_flags()
        .iter()
        .any(|flag| flag.name == "has_v" && flag.as_bool() == Some(true));
    if has_v {
        Ok(())
    } else {
        Err(NO_VECTORS.into())
    }
}

/// Why SIMD code cannot be compiled on a RISC-V host without the V extension.
pub(crate) const NO_VECTORS: &str = "the JIT cannot compile SIMD (v128) code on this RISC-V host: \
     it lacks the V (vector) extension";

/// The address of the helper behind Cranelift's `X86Pshufb` libcall, which x86-64 code
/// calls for `swizzle` and some shuffles when the host lacks SSSE3 (`None` elsewhere).
pub(crate) fn x86_pshufb_address() -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        Some(x86_pshufb as *const () as usize)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// SSSE3's `pshufb`: byte `i` of the result is 0 when bit 7 of `mask[i]` is set, else
/// `source[mask[i] & 15]`. Vectors travel in `xmm` registers, as Cranelift passes them.
///
/// `__m128i` is not an FFI-safe type in general, but on x86-64 (where SSE2 is always
/// enabled) rustc passes and returns it in `xmm` registers under the System V ABI, which is
/// Cranelift's `I8X16` convention; the baseline-ISA test (`simd_tests`) calls this through
/// compiled code.
#[cfg(target_arch = "x86_64")]
#[allow(improper_ctypes_definitions)]
extern "C" fn x86_pshufb(
    source: std::arch::x86_64::__m128i,
    mask: std::arch::x86_64::__m128i,
) -> std::arch::x86_64::__m128i {
    // SAFETY: `__m128i` is 16 bytes of plain data, as is `[u8; 16]`; every bit pattern is
    // valid for both.
    let (source, mask) = unsafe {
        (
            std::mem::transmute::<std::arch::x86_64::__m128i, [u8; 16]>(source),
            std::mem::transmute::<std::arch::x86_64::__m128i, [u8; 16]>(mask),
        )
    };
    let result = pshufb(source, mask);
    // SAFETY: as above.
    unsafe { std::mem::transmute::<[u8; 16], std::arch::x86_64::__m128i>(result) }
}

/// The byte shuffle of [`x86_pshufb`], on plain bytes.
fn pshufb(source: [u8; 16], mask: [u8; 16]) -> [u8; 16] {
    mask.map(|index| {
        if index & 0x80 != 0 {
            0
        } else {
            source[usize::from(index & 0x0f)]
        }
    })
}

/// The host's architecture name, for messages.
pub(crate) const ARCH: &str = std::env::consts::ARCH;

/// Makes `code` (freshly written, already mapped executable or about to be) visible to
/// instruction fetch on every thread of the process. Does nothing on x86-64.
pub(crate) fn flush_icache(code: std::ops::Range<usize>) -> Result<(), String> {
    if code.is_empty() || cfg!(target_arch = "x86_64") {
        return Ok(());
    }
    // SAFETY: cleaning and invalidating caches changes no memory contents; the range is
    // mapped (our own code allocation), so the cache-maintenance instructions cannot fault.
    let cleared =
        unsafe { clear_cache::clear_cache(code.start as *const u8, code.end as *const u8) };
    if !cleared {
        return Err("cannot flush the instruction cache for compiled code".into());
    }
    wasmtime_jit_icache_coherence::pipeline_flush_mt()
        .map_err(|error| format!("cannot serialise the other threads' pipelines: {error}"))
}

/// The registers of a thread stopped by a signal, as its `ucontext` holds them: the
/// program counter, the stack and frame pointers, and the first integer return register.
pub(crate) struct SignalRegisters<'a> {
    context: &'a mut libc::ucontext_t,
}

impl<'a> SignalRegisters<'a> {
    pub(crate) fn new(context: &'a mut libc::ucontext_t) -> SignalRegisters<'a> {
        SignalRegisters { context }
    }

    /// The program counter: the address of the instruction that raised the signal.
    pub(crate) fn pc(&mut self) -> usize {
        self.read(Register::Pc)
    }

    /// Makes the interrupted function return `status` to its caller at once, as if it had
    /// executed its epilogue. Valid only where the function has set up its frame-pointer
    /// pair and changed nothing else (the stack-limit check; see the module docs).
    ///
    /// # Safety
    ///
    /// The thread's frame pointer must point at the frame-pointer pair of the interrupted
    /// function, on its live stack.
    pub(crate) unsafe fn return_to_caller(&mut self, status: u32) {
        let frame = self.read(Register::Fp);
        // SAFETY: by the caller's contract, `[frame]` and `[frame + 8]` are the two words
        // the prologue pushed, on the live, mapped stack.
        let (caller_frame, return_address) =
            unsafe { (*(frame as *const usize), *((frame + 8) as *const usize)) };
        self.write(Register::Fp, caller_frame);
        self.write(Register::Sp, frame + 16);
        self.write(Register::Pc, return_address);
        self.write(Register::Return, status as usize);
    }

    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    fn slot(&mut self, register: Register) -> &mut i64 {
        let index = match register {
            Register::Pc => libc::REG_RIP,
            Register::Sp => libc::REG_RSP,
            Register::Fp => libc::REG_RBP,
            Register::Return => libc::REG_RAX,
        };
        &mut self.context.uc_mcontext.gregs[index as usize]
    }

    #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
    fn slot(&mut self, register: Register) -> &mut u64 {
        let mcontext = &mut self.context.uc_mcontext;
        match register {
            Register::Pc => &mut mcontext.pc,
            Register::Sp => &mut mcontext.sp,
            // x29 is the frame pointer, x0 the first return register.
            Register::Fp => &mut mcontext.regs[29],
            Register::Return => &mut mcontext.regs[0],
        }
    }

    #[cfg(all(target_os = "linux", target_arch = "riscv64"))]
    fn slot(&mut self, register: Register) -> &mut u64 {
        // `__gregs[0]` is the pc, then x1..x31: sp is x2, fp (s0) x8, a0 x10.
        let index = match register {
            Register::Pc => 0,
            Register::Sp => 2,
            Register::Fp => 8,
            Register::Return => 10,
        };
        &mut self.context.uc_mcontext.__gregs[index]
    }

    #[cfg(not(all(
        target_os = "linux",
        any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            target_arch = "riscv64"
        )
    )))]
    fn slot(&mut self, _: Register) -> &mut u64 {
        unreachable!("the JIT runs no code on unsupported hosts")
    }

    fn read(&mut self, register: Register) -> usize {
        *self.slot(register) as usize
    }

    fn write(&mut self, register: Register, value: usize) {
        *self.slot(register) = value as _;
    }
}

/// The registers the stack-overflow handler reads or rewrites.
#[derive(Debug, Clone, Copy)]
enum Register {
    Pc,
    Sp,
    Fp,
    /// The first integer return register (the status of a Wasm function).
    Return,
}

/// Patches the relocation of kind `kind` at offset `at` of `code` (which will run at
/// address `base`) so that it refers to `target + addend`.
pub(crate) fn apply_relocation(
    code: &mut [u8],
    base: usize,
    at: usize,
    kind: Reloc,
    target: usize,
    addend: i64,
) -> Result<(), String> {
    let value = (target as i64).wrapping_add(addend);
    let site = (base + at) as i64;
    let delta = value.wrapping_sub(site);
    let out_of_range = || format!("a {kind:?} relocation is out of range ({delta:#x} bytes)");
    let mut word = |at: usize, patch: &dyn Fn(u32) -> u32| -> Result<(), String> {
        let bytes: &mut [u8; 4] = code
            .get_mut(at..at + 4)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("a relocation lies outside its code")?;
        *bytes = patch(u32::from_le_bytes(*bytes)).to_le_bytes();
        Ok(())
    };
    match kind {
        Reloc::Abs8 => {
            code.get_mut(at..at + 8)
                .ok_or("a relocation lies outside its code")?
                .copy_from_slice(&value.to_le_bytes());
        }
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 => {
            let delta = i32::try_from(delta).map_err(|_| out_of_range())?;
            word(at, &|_| delta as u32)?;
        }
        Reloc::Arm64Call => {
            // `bl`: a signed 26-bit count of instructions in the low bits.
            if delta % 4 != 0 || !(-(1 << 27)..(1 << 27)).contains(&delta) {
                return Err(out_of_range());
            }
            let imm26 = ((delta >> 2) as u32) & 0x03ff_ffff;
            word(at, &|instruction| (instruction & !0x03ff_ffff) | imm26)?;
        }
        Reloc::RiscvCallPlt => {
            // `auipc ra, hi20; jalr ra, lo12(ra)`: hi20 rounds so that the sign-extended
            // lo12 adds up to the delta.
            if !(-(1i64 << 31) - 0x800..(1i64 << 31) - 0x800).contains(&delta) {
                return Err(out_of_range());
            }
            let hi20 = ((delta + 0x800) >> 12) as u32 & 0xf_ffff;
            let lo12 = (delta as u32) & 0xfff;
            word(at, &|auipc| (auipc & 0xfff) | (hi20 << 12))?;
            word(at + 4, &|jalr| (jalr & 0x000f_ffff) | (lo12 << 20))?;
        }
        other => return Err(format!("unsupported relocation kind {other:?} on {ARCH}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jit_supports_the_three_linux_hosts() {
        let expected =
            cfg!(target_os = "linux") && matches!(ARCH, "x86_64" | "aarch64" | "riscv64");
        assert_eq!(is_supported(), expected);
    }

    #[test]
    fn cranelift_targets_this_host() {
        if !is_supported() {
            return;
        }
        let isa = crate::compiler::isa().unwrap();
        // Cranelift names RISC-V by its extensions too (`riscv64gc`).
        let architecture = isa.triple().architecture.to_string();
        assert!(architecture.starts_with(ARCH), "{architecture} on {ARCH}");
    }

    #[test]
    fn absolute_relocations_write_the_address_plus_addend() {
        let mut code = [0xaa; 12];
        apply_relocation(&mut code, 0x1000, 2, Reloc::Abs8, 0x1234_5678_9abc, 4).unwrap();
        assert_eq!(code[..2], [0xaa, 0xaa]);
        assert_eq!(
            u64::from_le_bytes(code[2..10].try_into().unwrap()),
            0x1234_5678_9ac0
        );
        assert_eq!(code[10..], [0xaa, 0xaa]);
        assert!(apply_relocation(&mut code, 0, 8, Reloc::Abs8, 0, 0).is_err());
    }

    #[test]
    fn x86_calls_are_relative_to_the_field() {
        // `call rel32` at 0x2000: the field is at 0x2001, Cranelift's addend is -4.
        let mut code = [0xe8, 0, 0, 0, 0];
        apply_relocation(&mut code, 0x2000, 1, Reloc::X86CallPCRel4, 0x2100, -4).unwrap();
        assert_eq!(i32::from_le_bytes(code[1..].try_into().unwrap()), 0x100 - 5);
        let far = 0x2000 + (1usize << 32);
        assert!(apply_relocation(&mut code, 0x2000, 1, Reloc::X86CallPCRel4, far, -4).is_err());
    }

    #[test]
    fn aarch64_calls_patch_the_bl_immediate() {
        let bl = 0x9400_0000u32;
        let mut code = bl.to_le_bytes();
        apply_relocation(&mut code, 0x4000, 0, Reloc::Arm64Call, 0x4000 + 0x40, 0).unwrap();
        assert_eq!(u32::from_le_bytes(code), bl | 0x10);
        // Backwards: -8 bytes is -2 instructions, in 26-bit two's complement.
        let mut code = bl.to_le_bytes();
        apply_relocation(&mut code, 0x4000, 0, Reloc::Arm64Call, 0x4000 - 8, 0).unwrap();
        assert_eq!(u32::from_le_bytes(code), bl | 0x03ff_fffe);
        let far = 0x4000 + (128 << 20);
        assert!(apply_relocation(&mut code, 0x4000, 0, Reloc::Arm64Call, far, 0).is_err());
    }

    /// Decodes `auipc; jalr` back into the offset they add to the `auipc`'s address.
    fn riscv_call_offset(code: &[u8]) -> i64 {
        let auipc = u32::from_le_bytes(code[..4].try_into().unwrap());
        let jalr = u32::from_le_bytes(code[4..8].try_into().unwrap());
        let hi = i64::from((auipc & 0xffff_f000) as i32);
        let lo = i64::from((jalr as i32) >> 20);
        hi + lo
    }

    #[test]
    fn riscv_calls_split_the_offset_between_auipc_and_jalr() {
        // auipc ra, 0; jalr ra, 0(ra)
        let call = [0x0000_0097u32.to_le_bytes(), 0x0000_80e7u32.to_le_bytes()].concat();
        for delta in [
            0i64,
            0x10,
            0x7ff,
            0x800,
            0xfff,
            0x1234_5678,
            -0x800,
            -0x801,
            -0x7654_3210,
        ] {
            let mut code = call.clone();
            let base = 0x8000_0000usize;
            let target = (base as i64 + delta) as usize;
            apply_relocation(&mut code, base, 0, Reloc::RiscvCallPlt, target, 0).unwrap();
            assert_eq!(riscv_call_offset(&code), delta, "delta {delta:#x}");
            // The registers and opcodes are untouched.
            assert_eq!(code[0] & 0x7f, 0x17);
            assert_eq!(
                u32::from_le_bytes(code[4..].try_into().unwrap()) & 0xf_ffff,
                0x80e7
            );
        }
        let mut code = call.clone();
        assert!(apply_relocation(&mut code, 0, 0, Reloc::RiscvCallPlt, 1 << 32, 0).is_err());
    }

    #[test]
    fn pshufb_zeroes_lanes_with_bit_7_and_indexes_by_the_low_nibble() {
        let source: [u8; 16] = std::array::from_fn(|i| 0xa0 + i as u8);
        let mask: [u8; 16] = [
            0, 15, 16, 0x1f, 0x7f, 0x80, 0xff, 0x8f, 3, 0x43, 0x70, 0x81, 2, 2, 9, 14,
        ];
        let result = pshufb(source, mask);
        for (i, index) in mask.iter().enumerate() {
            let expected = if index & 0x80 != 0 {
                0
            } else {
                source[usize::from(index % 16)]
            };
            assert_eq!(result[i], expected, "lane {i}, index {index:#x}");
        }
        assert_eq!(
            result[2], source[0],
            "16 selects lane 0: only the low nibble indexes"
        );
        assert_eq!(result[5], 0);
        #[cfg(target_arch = "x86_64")]
        {
            // The libcall entry gives the same bytes through the vector ABI.
            // SAFETY: plain 16-byte data both ways.
            let through_abi: [u8; 16] = unsafe {
                std::mem::transmute(x86_pshufb(
                    std::mem::transmute::<[u8; 16], std::arch::x86_64::__m128i>(source),
                    std::mem::transmute::<[u8; 16], std::arch::x86_64::__m128i>(mask),
                ))
            };
            assert_eq!(through_abi, result);
        }
    }

    #[test]
    fn other_relocation_kinds_are_refused() {
        let mut code = [0; 8];
        assert!(apply_relocation(&mut code, 0, 0, Reloc::Aarch64AdrGotPage21, 0, 0).is_err());
    }

    #[test]
    fn a_stack_check_trap_returns_the_status_to_the_caller() {
        if !is_supported() {
            return;
        }
        // A frame-pointer pair as every prologue pushes it: caller's fp, return address.
        let frame: [usize; 2] = [0x7000_1000, 0x5555_0042];
        let frame_address = frame.as_ptr() as usize;
        // SAFETY: a zeroed `ucontext_t` is a plain bag of integers.
        let mut context: libc::ucontext_t = unsafe { std::mem::zeroed() };
        let mut registers = SignalRegisters::new(&mut context);
        registers.write(Register::Pc, 0x5555_9000);
        registers.write(Register::Fp, frame_address);
        registers.write(Register::Sp, frame_address - 64);
        assert_eq!(registers.pc(), 0x5555_9000);
        // SAFETY: the frame pointer points at `frame`, a live two-word pair.
        unsafe { registers.return_to_caller(0x1234) };
        assert_eq!(registers.read(Register::Pc), 0x5555_0042);
        assert_eq!(registers.read(Register::Fp), 0x7000_1000);
        assert_eq!(registers.read(Register::Sp), frame_address + 16);
        assert_eq!(registers.read(Register::Return), 0x1234);
    }

    #[test]
    fn flushing_the_instruction_cache_of_written_code_succeeds() {
        let mut code = crate::code_memory::CodeMemory::new(&[0; 64]).unwrap();
        code.bytes_mut()[0] = 1;
        flush_icache(code.range()).unwrap();
        flush_icache(0..0).unwrap();
    }
}
