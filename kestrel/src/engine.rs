//! [`Config`] and [`Engine`]: the process-wide settings shared by modules and stores.
//!
//! An engine owns the signature registry (vm's `TypeRegistry`), so every module compiled
//! and every store created with one engine compares function types by integer id. Objects
//! of different engines never mix: instantiating across engines is a usage error.

use crate::{Error, Features, Result};
use kestrel_vm::{Instrumentation, MemoryConfig, MemoryPool, StackLimits, TypeRegistry};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How Wasm code is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// Kestrel's interpreter.
    Interpreter,
    /// Kestrel's Cranelift JIT: every function of a module is compiled to native code when
    /// the module is created (on all cores). Linux on x86-64, AArch64 and RISC-V 64.
    Jit,
    /// Tiered execution: everything starts in the interpreter, which counts calls and
    /// backward branches per function; when a function reaches a threshold
    /// ([`Config::tiering_thresholds`]) it is compiled with the JIT (in the background by
    /// default) and later calls of it run native code. A call already running leaves the
    /// interpreter at a hot loop's next iteration once that loop's on-stack-replacement
    /// entry is compiled ([`Config::on_stack_replacement`]). Linux on x86-64, AArch64 and
    /// RISC-V 64.
    Tiered,
}

impl Default for Strategy {
    /// [`Strategy::Tiered`] where the JIT runs (Linux on x86-64, AArch64 and RISC-V 64), else
    /// [`Strategy::Interpreter`].
    fn default() -> Strategy {
        crate::tier::default_strategy()
    }
}

/// Where instances' linear memories get their address space
/// ([`Config::allocation_strategy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InstanceAllocationStrategy {
    /// Each memory reserves its own address space when it is created and gives it back
    /// when its store is dropped (the default).
    #[default]
    OnDemand,
    /// Memory slots reserved once per engine and reused (see [`PoolingConfig`]).
    Pooling(PoolingConfig),
}

/// The pooling allocator's limits: how many memories may live at once in all the stores of
/// an engine, and how large each may be.
///
/// The engine reserves `total_memories * max_memory_size` bytes of address space up front
/// (no physical memory). Instantiation takes a free slot for each memory the module
/// defines and fails with [`ErrorKind::Resource`](crate::ErrorKind::Resource) when none is
/// free or the memory's initial size exceeds `max_memory_size`. When a store is dropped its
/// memories' slots are decommitted (their pages discarded, so a slot never shows a previous
/// instance's data) and returned to the pool. A memory that grows past `max_memory_size`
/// moves out of its slot into an ordinary mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolingConfig {
    /// Memories alive at once (1,000 by default).
    pub total_memories: u32,
    /// Bytes per slot (4 GiB by default; rounded up to the host page size).
    pub max_memory_size: u64,
}

impl Default for PoolingConfig {
    fn default() -> PoolingConfig {
        PoolingConfig {
            total_memories: 1_000,
            max_memory_size: 1 << 32,
        }
    }
}

/// When and how [`Strategy::Tiered`] compiles hot code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TieringConfig {
    /// Entries into a function that make it hot.
    pub(crate) calls: u32,
    /// Backward branches taken in a function that make it hot.
    pub(crate) back_edges: u32,
    /// Compile on a background thread (else on the thread that found the function hot).
    pub(crate) background: bool,
    /// Give hot loops on-stack-replacement entries.
    pub(crate) on_stack_replacement: bool,
    /// Print each tier-up and its compile time to stderr.
    pub(crate) trace: bool,
}

impl Default for TieringConfig {
    fn default() -> TieringConfig {
        TieringConfig {
            calls: 1_000,
            back_edges: 10_000,
            background: true,
            on_stack_replacement: true,
            trace: false,
        }
    }
}

/// Settings for an [`Engine`], made with builder methods.
///
/// ```
/// let mut config = kestrel::Config::new();
/// config.wasm_tail_call(true).max_call_depth(10_000);
/// let engine = kestrel::Engine::new(&config)?;
/// # Ok::<(), kestrel::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) features: Features,
    pub(crate) stack_limits: StackLimits,
    pub(crate) memory: MemoryConfig,
    pub(crate) strategy: Strategy,
    pub(crate) tiering: TieringConfig,
    pub(crate) instrumentation: Instrumentation,
    pub(crate) allocation: InstanceAllocationStrategy,
}

impl Default for Config {
    /// Wasm 2.0 without SIMD, tiered execution where the JIT runs (else the interpreter),
    /// and vm's default limits.
    fn default() -> Config {
        Config {
            features: Features::default(),
            stack_limits: StackLimits::default(),
            memory: MemoryConfig::default(),
            strategy: Strategy::default(),
            tiering: TieringConfig::default(),
            instrumentation: Instrumentation::default(),
            allocation: InstanceAllocationStrategy::default(),
        }
    }
}

impl Config {
    /// The default configuration.
    pub fn new() -> Config {
        Config::default()
    }

    /// Replaces the whole set of accepted Wasm proposals.
    pub fn wasm_features(&mut self, features: Features) -> &mut Config {
        self.features = features;
        self
    }

    /// Fixed-width 128-bit SIMD (on by default). Switching it off switches relaxed SIMD
    /// off too, which builds on it.
    pub fn wasm_simd(&mut self, enable: bool) -> &mut Config {
        self.features.simd(enable);
        if !enable {
            self.features.relaxed_simd(false);
        }
        self
    }

    /// Relaxed SIMD (on by default; switching it on switches SIMD on). Every relaxed
    /// instruction has one deterministic behaviour, the same in every tier and on every
    /// host: see `ARCHITECTURE.md`.
    pub fn wasm_relaxed_simd(&mut self, enable: bool) -> &mut Config {
        self.features.relaxed_simd(enable);
        if enable {
            self.features.simd(true);
        }
        self
    }

    /// Tail calls (`return_call` and friends).
    pub fn wasm_tail_call(&mut self, enable: bool) -> &mut Config {
        self.features.tail_call(enable);
        self
    }

    /// More than one memory per module.
    pub fn wasm_multi_memory(&mut self, enable: bool) -> &mut Config {
        self.features.multi_memory(enable);
        self
    }

    /// 64-bit memory and table indices.
    pub fn wasm_memory64(&mut self, enable: bool) -> &mut Config {
        self.features.memory64(enable);
        self
    }

    /// Arithmetic in constant expressions.
    pub fn wasm_extended_const(&mut self, enable: bool) -> &mut Config {
        self.features.extended_const(enable);
        self
    }

    /// The most Wasm frames live at once in a store (across host re-entry); deeper calls
    /// trap with [`Trap::StackOverflow`](crate::Trap::StackOverflow).
    pub fn max_call_depth(&mut self, depth: u32) -> &mut Config {
        self.stack_limits.max_call_depth = depth;
        self
    }

    /// The most 64-bit slots the interpreter's value stack may hold per store.
    pub fn max_value_stack(&mut self, slots: usize) -> &mut Config {
        self.stack_limits.max_value_stack = slots;
        self
    }

    /// The most bytes of native stack JIT-compiled code may use from one entry into Wasm
    /// (8 MiB by default; compiled code also stops short of the end of the thread's stack).
    /// Deeper calls trap with [`Trap::StackOverflow`](crate::Trap::StackOverflow).
    /// Compiled frames count against this instead of [`Config::max_call_depth`].
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Config {
        self.stack_limits.max_wasm_stack = bytes;
        self
    }

    /// Address space reserved up front for each linear memory. The default, 4 GiB, means a
    /// 32-bit memory never moves when it grows. A memory declaring a smaller maximum
    /// reserves only its maximum (no guard region: every access is bounds-checked), so
    /// small memories do not exhaust the address space.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Config {
        self.memory.reservation_bytes = bytes;
        self
    }

    /// Fuel metering (off by default): every store starts with no fuel, which
    /// [`Store::set_fuel`](crate::Store::set_fuel) provides; Wasm consumes one unit per
    /// operator (`nop`, `drop`, `block`, `loop`, `unreachable`, `return`, `else` and `end`
    /// are free) and traps with [`Trap::OutOfFuel`](crate::Trap::OutOfFuel) when it runs
    /// out. Every strategy consumes exactly the same fuel for the same execution, so a
    /// program runs out at the same point on every engine. Fuel is charged per
    /// straight-line region before the region runs (see `kestrel_vm::instrument`).
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Config {
        self.instrumentation.fuel = enable;
        self
    }

    /// Epoch interruption (off by default): Wasm checks, at every function entry and loop
    /// iteration, whether the engine's epoch ([`Engine::increment_epoch`]) has reached the
    /// store's deadline ([`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline)),
    /// and traps with [`Trap::Interrupt`](crate::Trap::Interrupt) if so. Unlike Wasmtime, a
    /// store starts with no deadline (not an immediate one).
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Config {
        self.instrumentation.epochs = enable;
        self
    }

    /// Whether a memory whose module's data segments all have constant offsets and fit in
    /// its initial size starts as a copy-on-write mapping of an image of its contents
    /// built once per module (on by default), instead of having the segments copied in.
    /// Either way every instance sees only its own writes.
    ///
    /// Instantiation then touches no page of the memory, and a pool slot reused by the
    /// same module needs no system call. The cost: each such memory takes mappings of the
    /// process, which Linux caps (`vm.max_map_count`, 65,530 by default). So memories
    /// outside a pool map images only while fewer than a quarter of that limit are live,
    /// and copy their image's bytes into plain pages beyond (100,000 live instances fit
    /// with the default limit); a pool's slots are bounded by its own configuration.
    pub fn memory_init_cow(&mut self, enable: bool) -> &mut Config {
        self.memory.memory_init_cow = enable;
        self
    }

    /// Where linear memories get their address space: reserved per memory (the default)
    /// or from a pool of slots reserved once per engine.
    pub fn allocation_strategy(&mut self, strategy: InstanceAllocationStrategy) -> &mut Config {
        self.allocation = strategy;
        self
    }

    /// Which tier executes Wasm code.
    pub fn strategy(&mut self, strategy: Strategy) -> &mut Config {
        self.strategy = strategy;
        self
    }

    /// With [`Strategy::Tiered`]: a function is compiled once it has been entered `calls`
    /// times or has taken `back_edges` backward branches (loop iterations), counted across
    /// all stores of its module (1000 and 10 000 by default; 0 counts as 1).
    pub fn tiering_thresholds(&mut self, calls: u32, back_edges: u32) -> &mut Config {
        self.tiering.calls = calls.max(1);
        self.tiering.back_edges = back_edges.max(1);
        self
    }

    /// With [`Strategy::Tiered`]: compile hot code on a background thread (the default),
    /// or synchronously on the thread that found it hot, which makes the switch happen at
    /// a deterministic point (tests).
    pub fn tiering_in_background(&mut self, background: bool) -> &mut Config {
        self.tiering.background = background;
        self
    }

    /// With [`Strategy::Tiered`]: on-stack replacement (on by default). When a function's
    /// backward branches reach the threshold of [`Config::tiering_thresholds`], the loop
    /// taking the branch gets an entry compiled for its header, and the running call
    /// continues there in native code at the loop's next iteration once it is ready, so a
    /// long loop in a function called once does not stay interpreted. (The function's
    /// normal entry is then compiled only if its calls reach their threshold: a program's
    /// main is not compiled twice.) Without it, the back-edge threshold compiles the
    /// function for its later calls.
    pub fn on_stack_replacement(&mut self, enable: bool) -> &mut Config {
        self.tiering.on_stack_replacement = enable;
        self
    }

    /// With [`Strategy::Tiered`]: print to stderr when each function tiers up and how long
    /// its compilation took.
    pub fn trace_tiering(&mut self, trace: bool) -> &mut Config {
        self.tiering.trace = trace;
        self
    }
}

/// The shared context for compiling modules and creating stores. Cheap to clone (one `Arc`),
/// `Send` and `Sync`.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    config: Config,
    registry: Arc<TypeRegistry>,
    /// The epoch of epoch interruption; every store of the engine reads it.
    epoch: Arc<AtomicU64>,
    /// What stores' memories are made with (with the pool, when pooling).
    memory: MemoryConfig,
    /// Every store's tiering settings and hooks, built once: a store clones them (one
    /// reference count) instead of allocating its own hooks.
    tiering: Option<kestrel_vm::Tiering>,
}

impl Engine {
    /// Creates an engine with `config`.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) when a limit is zero, and
    /// [`ErrorKind::Resource`](crate::ErrorKind::Resource) when the pooling allocator's
    /// address space cannot be reserved.
    pub fn new(config: &Config) -> Result<Engine> {
        if config.stack_limits.max_call_depth == 0 {
            return Err(Error::usage("`max_call_depth` must be at least 1"));
        }
        if config.stack_limits.max_value_stack == 0 {
            return Err(Error::usage("`max_value_stack` must be at least 1"));
        }
        crate::tier::check_config(config)?;
        let mut memory = config.memory.clone();
        if let InstanceAllocationStrategy::Pooling(pooling) = config.allocation {
            let pool = MemoryPool::new(pooling.total_memories, pooling.max_memory_size)
                .map_err(|error| Error::resource(error.0))?;
            memory.pool = Some(Arc::new(pool));
        }
        Ok(Engine::from_valid_config(config.clone(), memory))
    }

    fn from_valid_config(config: Config, memory: MemoryConfig) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                tiering: crate::tier::store_tiering(&config),
                config,
                registry: Arc::new(TypeRegistry::default()),
                epoch: Arc::new(AtomicU64::new(0)),
                memory,
            }),
        }
    }

    pub(crate) fn memory_config(&self) -> &MemoryConfig {
        &self.inner.memory
    }

    /// Whether `a` and `b` are clones of one engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// Advances the epoch by one. Callable from any thread (a timer, a watchdog): Wasm
    /// running in a store of this engine whose deadline the epoch reaches traps with
    /// [`Trap::Interrupt`](crate::Trap::Interrupt) at its next check. Has an effect only
    /// with [`Config::epoch_interruption`].
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn epoch_counter(&self) -> &Arc<AtomicU64> {
        &self.inner.epoch
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The tiering settings every store of this engine starts with.
    pub(crate) fn store_tiering(&self) -> &Option<kestrel_vm::Tiering> {
        &self.inner.tiering
    }

    pub(crate) fn registry(&self) -> &Arc<TypeRegistry> {
        &self.inner.registry
    }
}

impl Default for Engine {
    /// An engine with the default [`Config`].
    fn default() -> Engine {
        Engine::from_valid_config(Config::default(), MemoryConfig::default())
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Engine")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
