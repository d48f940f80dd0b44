//! The one error type of the API: [`Error`], its [`ErrorKind`], and the [`WasmBacktrace`]
//! a trap carries.
//!
//! This module owns the mapping from the lower layers' errors (the parser's `ParseError`,
//! vm's `InstantiationError` and `Trap`) to `Error`, and the round trip of a host function's
//! error through the tiers: a host `Error` is boxed into vm's `HostError` on the way in and
//! unboxed here on the way out, so the embedder gets back the very value it returned and can
//! `downcast_ref` it.
//!
//! `Error` is one pointer wide (`Result<(), Error>` is too), so returning it costs nothing on
//! the success path.

use kestrel_parser::ParseError;
use kestrel_vm::{HostError, InstantiationError, StoreOpaque, TrapCode, TrapReason};
use std::any::Any;
use std::borrow::Cow;
use std::fmt::{self, Debug, Display};

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The module's text or binary is malformed or invalid ([`Error::offset`] tells where in
    /// a binary).
    Parse,
    /// The module is valid but uses something Kestrel does not implement yet.
    Unsupported,
    /// An import is missing or has the wrong type.
    Link,
    /// Wasm execution trapped ([`Error::trap_code`] tells why).
    Trap,
    /// An error raised by host code: a host function, or [`Error::new`] / [`Error::msg`].
    Host,
    /// A memory, table or other resource could not be allocated or grown.
    Resource,
    /// Reading a file failed.
    Io,
    /// The API was called with arguments that do not fit (wrong arity, mismatched types,
    /// cross-engine use, an immutable global set, ...).
    Usage,
}

/// The error every fallible operation of this crate returns.
///
/// One pointer wide. `Display` gives a one-line message; the alternate form (`{:#}`) adds the
/// Wasm backtrace, if there is one:
///
/// ```text
/// out of bounds memory access
/// wasm backtrace:
///     0: <unknown>!load
///     1: <unknown>!<wasm function 3>
/// ```
///
/// Implements `std::error::Error + Send + Sync + 'static`, so it converts into
/// `anyhow::Error` or `Box<dyn Error>`.
pub struct Error {
    inner: Box<ErrorImpl>,
}

struct ErrorImpl {
    kind: ErrorKind,
    payload: Payload,
    offset: Option<u64>,
    backtrace: Option<WasmBacktrace>,
}

enum Payload {
    /// A message made by this crate or the layers below.
    Message(Cow<'static, str>),
    Trap(TrapCode),
    /// A value of a type known when it was wrapped, so it can be downcast.
    Typed(Box<dyn TypedPayload>),
    /// A boxed error made below this crate (a tier's own host error).
    Foreign(HostError),
}

trait TypedPayload: Display + Debug + Send + Sync + 'static {
    fn as_any(&self) -> &dyn Any;
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)>;
}

/// Wraps a `std::error::Error`, keeping its source chain.
struct ErrorPayload<E>(E);

/// Wraps a displayable message from [`Error::msg`].
struct MessagePayload<M>(M);

impl<E: std::error::Error + Send + Sync + 'static> TypedPayload for ErrorPayload<E> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }

    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl<M: Display + Debug + Send + Sync + 'static> TypedPayload for MessagePayload<M> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }

    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        None
    }
}

impl<E: Display> Display for ErrorPayload<E> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

impl<E: Debug> Debug for ErrorPayload<E> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(&self.0, formatter)
    }
}

impl<M: Display> Display for MessagePayload<M> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

impl<M: Debug> Debug for MessagePayload<M> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(&self.0, formatter)
    }
}

impl Error {
    /// Wraps an error value; [`downcast_ref`](Error::downcast_ref) gets it back.
    ///
    /// The kind is [`ErrorKind::Host`], except for the types this crate knows: a
    /// `std::io::Error` is [`ErrorKind::Io`], a [`Trap`](crate::Trap) is
    /// [`ErrorKind::Trap`] (so a host function can trap by returning
    /// `Err(Error::new(Trap::Unreachable))`), a [`ParseError`] is a parse error, and an
    /// `Error` is returned unchanged.
    pub fn new<E: std::error::Error + Send + Sync + 'static>(error: E) -> Error {
        let mut slot = Some(error);
        let any: &mut dyn Any = &mut slot;
        if let Some(error) = any.downcast_mut::<Option<Error>>().and_then(Option::take) {
            return error;
        }
        if let Some(code) = any
            .downcast_mut::<Option<TrapCode>>()
            .and_then(Option::take)
        {
            return Error::from(code);
        }
        if let Some(error) = any
            .downcast_mut::<Option<ParseError>>()
            .and_then(Option::take)
        {
            return Error::from(error);
        }
        let kind = if any.is::<Option<std::io::Error>>() {
            ErrorKind::Io
        } else {
            ErrorKind::Host
        };
        match slot {
            Some(error) => Error::build(kind, Payload::Typed(Box::new(ErrorPayload(error)))),
            None => unreachable!("only the branches above take the error out"),
        }
    }

    /// An error of kind [`ErrorKind::Host`] carrying `message`, which
    /// [`downcast_ref`](Error::downcast_ref) can get back.
    pub fn msg<M: Display + Debug + Send + Sync + 'static>(message: M) -> Error {
        Error::build(
            ErrorKind::Host,
            Payload::Typed(Box::new(MessagePayload(message))),
        )
    }

    /// What went wrong, broadly.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Why Wasm trapped, for errors of kind [`ErrorKind::Trap`].
    pub fn trap_code(&self) -> Option<TrapCode> {
        match self.inner.payload {
            Payload::Trap(code) => Some(code),
            _ => None,
        }
    }

    /// The Wasm frames that were live when a trap or host error unwound them, innermost
    /// first.
    pub fn backtrace(&self) -> Option<&WasmBacktrace> {
        self.inner.backtrace.as_ref()
    }

    /// For a parse error, the byte offset in the module binary where it was found.
    pub fn offset(&self) -> Option<u64> {
        self.inner.offset
    }

    /// The value wrapped by [`Error::new`] or [`Error::msg`] (typically returned by a host
    /// function), if it has type `E`. A trap's [`Trap`](crate::Trap) code and a parse
    /// error's [`ParseError`] can be downcast too.
    pub fn downcast_ref<E: Display + Debug + Send + Sync + 'static>(&self) -> Option<&E> {
        match &self.inner.payload {
            Payload::Typed(payload) => payload.as_any().downcast_ref::<E>(),
            Payload::Trap(code) => (code as &dyn Any).downcast_ref::<E>(),
            Payload::Message(_) | Payload::Foreign(_) => None,
        }
    }

    /// Whether the wrapped value has type `E` (see [`downcast_ref`](Error::downcast_ref)).
    pub fn is<E: Display + Debug + Send + Sync + 'static>(&self) -> bool {
        self.downcast_ref::<E>().is_some()
    }

    fn build(kind: ErrorKind, payload: Payload) -> Error {
        Error {
            inner: Box::new(ErrorImpl {
                kind,
                payload,
                offset: None,
                backtrace: None,
            }),
        }
    }

    /// Wraps an error value with an explicit kind.
    #[cold]
    pub(crate) fn wrap<E: std::error::Error + Send + Sync + 'static>(
        kind: ErrorKind,
        error: E,
    ) -> Error {
        Error::build(kind, Payload::Typed(Box::new(ErrorPayload(error))))
    }

    #[cold]
    pub(crate) fn with_message(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Error {
        Error::build(kind, Payload::Message(message.into()))
    }

    #[cold]
    pub(crate) fn usage(message: impl Into<Cow<'static, str>>) -> Error {
        Error::with_message(ErrorKind::Usage, message)
    }

    #[cold]
    pub(crate) fn unsupported(message: impl Into<Cow<'static, str>>) -> Error {
        Error::with_message(ErrorKind::Unsupported, message)
    }

    #[cold]
    pub(crate) fn link(message: impl Into<Cow<'static, str>>) -> Error {
        Error::with_message(ErrorKind::Link, message)
    }

    #[cold]
    pub(crate) fn resource(message: impl Into<Cow<'static, str>>) -> Error {
        Error::with_message(ErrorKind::Resource, message)
    }

    /// Converts what a tier returned. A host function's own `Error` comes back unchanged
    /// (it gains the backtrace if it had none); frame names come from the modules' name
    /// sections.
    #[cold]
    pub(crate) fn from_trap(store: &StoreOpaque, trap: kestrel_vm::Trap) -> Error {
        let backtrace = WasmBacktrace::capture(store, &trap.backtrace);
        let mut error = match trap.reason {
            TrapReason::Code(code) => Error::from(code),
            TrapReason::Host(host) => match host.downcast::<Error>() {
                Ok(error) => *error,
                Err(foreign) => Error::build(ErrorKind::Host, Payload::Foreign(foreign)),
            },
        };
        if error.inner.backtrace.is_none() {
            error.inner.backtrace = backtrace;
        }
        error
    }

    /// Boxes the error for its trip through a tier as a `HostError`.
    #[cold]
    pub(crate) fn into_host(self) -> HostError {
        Box::new(self)
    }
}

impl From<TrapCode> for Error {
    fn from(code: TrapCode) -> Error {
        Error::build(ErrorKind::Trap, Payload::Trap(code))
    }
}

impl From<ParseError> for Error {
    fn from(error: ParseError) -> Error {
        let kind = if error.is_unsupported() {
            ErrorKind::Unsupported
        } else {
            ErrorKind::Parse
        };
        let offset = error.offset();
        let mut error = Error::build(kind, Payload::Typed(Box::new(ErrorPayload(error))));
        error.inner.offset = Some(offset);
        error
    }
}

impl From<InstantiationError> for Error {
    fn from(error: InstantiationError) -> Error {
        match error {
            InstantiationError::Link(message) => Error::link(message),
            InstantiationError::Trap(code) => Error::from(code),
            InstantiationError::Resource(message) => Error::resource(message),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        Error::build(ErrorKind::Io, Payload::Typed(Box::new(ErrorPayload(error))))
    }
}

impl Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.payload {
            Payload::Message(message) => formatter.write_str(message)?,
            Payload::Trap(code) => formatter.write_str(code.message())?,
            Payload::Typed(payload) => write!(formatter, "{payload}")?,
            Payload::Foreign(error) => write!(formatter, "{error}")?,
        }
        if formatter.alternate()
            && let Some(backtrace) = &self.inner.backtrace
        {
            write!(formatter, "\n{backtrace}")?;
        }
        Ok(())
    }
}

impl Debug for Error {
    /// The message and the backtrace, as `{:#}` shows them, so `unwrap()` and
    /// `fn main() -> kestrel::Result<()>` print something readable.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{self:#}")
    }
}

impl std::error::Error for Error {
    /// The wrapped error's source: `Error` is transparent over what it wraps.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.payload {
            Payload::Typed(payload) => payload.source(),
            Payload::Foreign(error) => error.source(),
            Payload::Message(_) | Payload::Trap(_) => None,
        }
    }
}

/// The Wasm frames live when execution stopped, innermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    fn capture(store: &StoreOpaque, frames: &[kestrel_vm::FrameInfo]) -> Option<WasmBacktrace> {
        if frames.is_empty() {
            return None;
        }
        let frames = frames
            .iter()
            .map(|frame| {
                let info = store
                    .instances
                    .get(frame.instance.index())
                    .map(|instance| &instance.module.info);
                FrameInfo {
                    module_name: info.and_then(|info| info.names.module.clone()),
                    func_index: frame.func_index,
                    func_name: info
                        .and_then(|info| info.function_name(frame.func_index))
                        .map(str::to_owned),
                }
            })
            .collect();
        Some(WasmBacktrace { frames })
    }
}

impl Display for WasmBacktrace {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Runaway recursion leaves ~100,000 frames: show both ends, which is where the
        // cause and the entry point are.
        const HEAD: usize = 50;
        const TAIL: usize = 10;
        formatter.write_str("wasm backtrace:")?;
        let len = self.frames.len();
        for (index, frame) in self.frames.iter().enumerate() {
            if len > HEAD + TAIL && index == HEAD {
                write!(
                    formatter,
                    "\n    ... {} frames omitted ...",
                    len - HEAD - TAIL
                )?;
            }
            if len <= HEAD + TAIL || index < HEAD || index >= len - TAIL {
                write!(formatter, "\n    {index}: {frame}")?;
            }
        }
        Ok(())
    }
}

/// One Wasm frame of a [`WasmBacktrace`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    module_name: Option<String>,
    func_index: u32,
    func_name: Option<String>,
}

impl FrameInfo {
    /// The module's name from its name section.
    pub fn module_name(&self) -> Option<&str> {
        self.module_name.as_deref()
    }

    /// The function's index in its module (imported functions first).
    pub fn func_index(&self) -> u32 {
        self.func_index
    }

    /// The function's name from the module's name section.
    pub fn func_name(&self) -> Option<&str> {
        self.func_name.as_deref()
    }
}

impl Display for FrameInfo {
    /// `module!function`, with `<unknown>` and `<wasm function N>` for missing names.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.module_name().unwrap_or("<unknown>"))?;
        match self.func_name() {
            Some(name) => write!(formatter, "!{name}"),
            None => write!(formatter, "!<wasm function {}>", self.func_index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_display_appends_the_backtrace() {
        let mut error = Error::from(TrapCode::MemoryOutOfBounds);
        error.inner.backtrace = Some(WasmBacktrace {
            frames: vec![
                FrameInfo {
                    module_name: Some("m".into()),
                    func_index: 1,
                    func_name: Some("load".into()),
                },
                FrameInfo {
                    module_name: None,
                    func_index: 3,
                    func_name: None,
                },
            ],
        });
        assert_eq!(error.to_string(), "out of bounds memory access");
        assert_eq!(
            format!("{error:#}"),
            "out of bounds memory access\nwasm backtrace:\n    0: m!load\n    1: <unknown>!<wasm function 3>"
        );
        assert_eq!(error.trap_code(), Some(TrapCode::MemoryOutOfBounds));
        assert_eq!(
            error.downcast_ref::<TrapCode>(),
            Some(&TrapCode::MemoryOutOfBounds)
        );
    }

    #[test]
    fn long_backtraces_show_both_ends() {
        let frames = (0..1000)
            .map(|func_index| FrameInfo {
                module_name: None,
                func_index,
                func_name: None,
            })
            .collect();
        let text = WasmBacktrace { frames }.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 50 + 1 + 10);
        assert_eq!(lines[50], "    49: <unknown>!<wasm function 49>");
        assert_eq!(lines[51], "    ... 940 frames omitted ...");
        assert_eq!(lines[52], "    990: <unknown>!<wasm function 990>");
        assert_eq!(lines[61], "    999: <unknown>!<wasm function 999>");
    }

    #[test]
    fn host_errors_survive_the_trip_through_a_tier() {
        #[derive(Debug, PartialEq)]
        struct Exit(i32);
        impl Display for Exit {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, "exit {}", self.0)
            }
        }
        impl std::error::Error for Exit {}

        let store = StoreOpaque::new(Default::default(), Default::default(), Default::default());
        let trap = kestrel_vm::Trap::host(Error::new(Exit(3)).into_host());
        let error = Error::from_trap(&store, trap);
        assert_eq!(error.kind(), ErrorKind::Host);
        assert_eq!(error.downcast_ref::<Exit>(), Some(&Exit(3)));

        let foreign = kestrel_vm::Trap::host("from a tier".into());
        let error = Error::from_trap(&store, foreign);
        assert_eq!(error.kind(), ErrorKind::Host);
        assert_eq!(error.to_string(), "from a tier");
    }

    #[test]
    fn new_recognises_known_types() {
        let inner = Error::usage("inner");
        assert_eq!(Error::new(inner).kind(), ErrorKind::Usage);
        assert_eq!(
            Error::new(TrapCode::Unreachable).trap_code(),
            Some(TrapCode::Unreachable)
        );
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        assert_eq!(Error::new(io).kind(), ErrorKind::Io);
    }
}
