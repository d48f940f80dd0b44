//! The one list of ways Wasm execution can trap.
//!
//! Both tiers report traps through [`TrapCode`]; the embedding API wraps it with a
//! backtrace. The `Display` text of each code is the spec interpreter's message, so the
//! spec harness can compare `assert_trap` messages directly.

use core::fmt;

macro_rules! trap_codes {
    ($( $(#[$doc:meta])* $name:ident => $message:literal, )*) => {
        /// Why Wasm execution stopped abnormally.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum TrapCode {
            $( $(#[$doc])* $name, )*
        }

        impl TrapCode {
            /// Every trap code, in declaration order.
            pub const ALL: &'static [TrapCode] = &[$(TrapCode::$name,)*];

            /// The message the reference interpreter prints for this trap.
            pub fn message(self) -> &'static str {
                match self {
                    $( TrapCode::$name => $message, )*
                }
            }
        }
    };
}

trap_codes! {
    /// `unreachable` was executed.
    Unreachable => "unreachable",
    /// A load or store, or a bulk memory operation, touched bytes past the memory's end.
    MemoryOutOfBounds => "out of bounds memory access",
    /// A table access or bulk table operation was out of bounds.
    TableOutOfBounds => "out of bounds table access",
    /// `call_indirect` found a null entry in the table.
    IndirectCallToNull => "uninitialized element",
    /// `call_indirect` found a function of the wrong type.
    BadSignature => "indirect call type mismatch",
    /// Signed division overflowed (`INT_MIN / -1`), or a float-to-int truncation was out of range.
    IntegerOverflow => "integer overflow",
    /// Integer division or remainder by zero.
    IntegerDivisionByZero => "integer divide by zero",
    /// A float-to-int truncation got NaN.
    BadConversionToInteger => "invalid conversion to integer",
    /// The configured call-depth or value-stack limit was reached.
    StackOverflow => "call stack exhausted",
    /// A null reference was dereferenced (`call_ref`, `ref.as_non_null`, ...).
    NullReference => "null reference",
    /// An element index was past the end of a table in `call_indirect`.
    UndefinedElement => "undefined element",
    /// The store ran out of fuel (fuel metering, `Store::set_fuel`).
    OutOfFuel => "all fuel consumed by WebAssembly",
    /// The engine's epoch reached the store's deadline (epoch interruption).
    Interrupt => "interrupt",
    /// A memory or table could not grow during instantiation, or another resource limit hit.
    ResourceExhausted => "resource limit exceeded",
}

impl fmt::Display for TrapCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.message())
    }
}

impl std::error::Error for TrapCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_distinct() {
        let mut messages: Vec<_> = TrapCode::ALL.iter().map(|code| code.message()).collect();
        messages.sort_unstable();
        messages.dedup();
        assert_eq!(messages.len(), TrapCode::ALL.len());
    }
}

/// Why a call into Wasm did not return normally: a trap, or an error a host function
/// returned, with the Wasm frames that were live (innermost first).
#[derive(Debug)]
pub struct Trap {
    pub reason: TrapReason,
    pub backtrace: Vec<FrameInfo>,
}

/// The cause of a [`Trap`].
#[derive(Debug)]
pub enum TrapReason {
    Code(TrapCode),
    Host(crate::store::HostError),
}

/// One Wasm frame of a backtrace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    pub instance: crate::store::InstanceId,
    /// The function index within the instance's module.
    pub func_index: u32,
}

impl Trap {
    pub fn code(code: TrapCode) -> Trap {
        Trap {
            reason: TrapReason::Code(code),
            backtrace: Vec::new(),
        }
    }

    pub fn host(error: crate::store::HostError) -> Trap {
        Trap {
            reason: TrapReason::Host(error),
            backtrace: Vec::new(),
        }
    }

    /// The trap code, when the cause is not a host error.
    pub fn trap_code(&self) -> Option<TrapCode> {
        match self.reason {
            TrapReason::Code(code) => Some(code),
            TrapReason::Host(_) => None,
        }
    }
}

impl From<TrapCode> for Trap {
    fn from(code: TrapCode) -> Trap {
        Trap::code(code)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            TrapReason::Code(code) => write!(formatter, "{code}"),
            TrapReason::Host(error) => write!(formatter, "{error}"),
        }
    }
}

impl std::error::Error for Trap {}
